package openalex_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/lit/online"
	"github.com/mlrc/mlrc/lit/online/onlinetest"
	"github.com/mlrc/mlrc/lit/openalex"
)

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/works.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fail answers like OpenAlex: {"error": …, "message": …}.
func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": http.StatusText(status), "message": msg})
}

func TestContract(t *testing.T) {
	body := fixture(t)
	onlinetest.Run(t, onlinetest.Harness{
		Service: openalex.Name,
		New: func(baseURL string, p online.Policy, c online.Cache, ttl time.Duration) lit.Source {
			return &openalex.Client{BaseURL: baseURL, Policy: p, Cache: c, CacheTTL: ttl}
		},
		OK: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		},
		Fail: fail,
	})
}

func TestSearch(t *testing.T) {
	body := fixture(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/works" {
			t.Errorf("path %q, want /works", r.URL.Path)
		}
		for param, want := range map[string]string{
			"search":   "low-rank adaptation",
			"per-page": "4",
			"select":   "id,title,publication_year,authorships,abstract_inverted_index,doi,primary_location",
			"mailto":   "me@example.org",
			"api_key":  "oa-key",
		} {
			if got := q.Get(param); got != want {
				t.Errorf("%s = %q, want %q", param, got, want)
			}
		}
		w.Write(body)
	}))
	defer srv.Close()
	c := &openalex.Client{BaseURL: srv.URL + "/", Mailto: "me@example.org", APIKey: "oa-key"}
	hits, err := c.Search(context.Background(), "low-rank adaptation", 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []lit.Work{
		{
			ID: "W3168867926", Source: "openalex",
			Title: "LoRA: Low-Rank Adaptation of Large Language Models",
			Abstract: "An important paradigm of natural language processing consists of large-scale pre-training on " +
				"general domain data and adaptation to particular tasks or domains. As we pre-train larger models, " +
				"full fine-tuning becomes less feasible.",
			Year: 2021, Authors: []string{"Edward J. Hu", "Yelong Shen", "Weizhu Chen"},
			URL: "https://doi.org/10.48550/arxiv.2106.09685",
		},
		{
			ID: "W2963339397", Source: "openalex",
			Title: "Parameter-Efficient Transfer Learning for NLP",
			Abstract: "We propose adapter modules that add only a few trainable parameters per task, " +
				"and new tasks can be added without revisiting previous ones.",
			Year: 2019, Authors: []string{"Neil Houlsby"},
			URL: "http://proceedings.mlr.press/v97/houlsby19a.html",
		},
		{
			ID: "W4385245566", Source: "openalex", Title: "An Untitled Abstract",
			URL: "https://doi.org/10.1145/3580305.3599999",
		},
	}
	if len(hits) != len(want) {
		t.Fatalf("%d hits, want %d (the untitled work left out)", len(hits), len(want))
	}
	for i, h := range hits {
		if !reflect.DeepEqual(h.Work, want[i]) {
			t.Errorf("hit %d:\n got %+v\nwant %+v", i, h.Work, want[i])
		}
	}
}

func TestErrorKeepsKeyOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fail(w, http.StatusUnauthorized, "Invalid API key")
	}))
	defer srv.Close()
	c := &openalex.Client{BaseURL: srv.URL, APIKey: "oa-secret-key"}
	_, err := c.Search(context.Background(), "lora", 3)
	if err == nil {
		t.Fatal("got nil error, want one")
	}
	for _, want := range []string{"openalex", "401", "Invalid API key", "API key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "oa-secret-key") {
		t.Errorf("error %q shows the key", err)
	}
}
