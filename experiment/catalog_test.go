package experiment

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestCatalogInstalledAndHub(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import sklearn, torch").Run(); err != nil {
		t.Skip("needs /usr/bin/python3 with sklearn and torch (make test installs them)")
	}
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("search") != "gradient boosting" {
			http.Error(w, "bad query", 400)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/api/models") {
			w.Write([]byte(`[{"id":"someone/gbm-tabular","pipeline_tag":"tabular-regression","downloads":42}]`))
			return
		}
		w.Write([]byte(`[]`))
	}))
	defer hub.Close()
	c := NewCatalog("/usr/bin/python3", func(k string) string { return map[string]string{"HF_ENDPOINT": hub.URL}[k] })
	r := call(t, retrieveTool(c), `{"query":"gradient boosting"}`)
	for _, want := range []string{"sklearn.ensemble.GradientBoostingClassifier [estimator, scikit-learn]", "someone/gbm-tabular [hub-model, huggingface]: tabular-regression, 42 downloads"} {
		if !strings.Contains(r.Content, want) {
			t.Errorf("retrieve lacks %q:\n%s", want, r.Content)
		}
	}
	r = call(t, retrieveTool(c), `{"query":"Conv2d"}`)
	if !strings.Contains(r.Content, "torch.nn.Conv2d [module, torch]") {
		t.Errorf("retrieve Conv2d:\n%s", r.Content)
	}

	// An unreachable Hub costs little and is said, not hidden.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c.HubURL = "http://" + addr
	start := time.Now()
	r = call(t, retrieveTool(c), `{"query":"load_digits"}`)
	if !strings.Contains(r.Content, "sklearn.datasets.load_digits") || !strings.Contains(r.Content, "Hugging Face Hub not searched: unreachable") {
		t.Errorf("offline retrieve:\n%s", r.Content)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("offline search took %v", el)
	}
}
