package arxiv_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/lit/arxiv"
	"github.com/mlrc/mlrc/lit/online"
	"github.com/mlrc/mlrc/lit/online/onlinetest"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fail answers like arXiv: a bad query gets an Atom feed whose one entry is
// the error; rate limits and outages get plain text.
func fail(w http.ResponseWriter, status int, msg string) {
	if status != http.StatusBadRequest {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		fmt.Fprintln(w, msg)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">ArXiv Query: search_query=&amp;id_list=&amp;start=0&amp;max_results=10</title>
  <id>http://arxiv.org/api/QFbqAqLHBcTh48+Kd3TlUy0vQcA</id>
  <entry>
    <id>http://arxiv.org/api/errors#bad_query</id>
    <title>Error</title>
    <summary>%s</summary>
    <author><name>arXiv api core</name></author>
  </entry>
</feed>
`, html.EscapeString(msg))
}

func atom(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/atom+xml; charset=UTF-8")
		w.Write(body)
	}
}

func TestContract(t *testing.T) {
	onlinetest.Run(t, onlinetest.Harness{
		Service: arxiv.Name,
		New: func(baseURL string, p online.Policy, c online.Cache, ttl time.Duration) lit.Source {
			return &arxiv.Client{BaseURL: baseURL, Policy: p, MinInterval: time.Millisecond, Cache: c, CacheTTL: ttl}
		},
		OK:   atom(fixture(t, "query.xml")),
		Fail: fail,
	})
}

func TestSearch(t *testing.T) {
	body := fixture(t, "query.xml")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		for param, want := range map[string]string{
			"search_query": "all:low AND all:rank AND all:adaptation AND all:large AND all:language AND all:models",
			"start":        "0",
			"max_results":  "3",
			"sortBy":       "relevance",
			"sortOrder":    "descending",
		} {
			if got := q.Get(param); got != want {
				t.Errorf("%s = %q, want %q", param, got, want)
			}
		}
		atom(body)(w, r)
	}))
	defer srv.Close()
	c := &arxiv.Client{BaseURL: srv.URL}
	hits, err := c.Search(context.Background(), "Low-rank adaptation of large language models", 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []lit.Work{
		{
			ID: "2106.09685", Source: "arxiv",
			Title: "LoRA: Low-Rank Adaptation of Large Language Models",
			Abstract: "An important paradigm of natural language processing consists of large-scale pre-training " +
				"on general domain data and adaptation to particular tasks or domains.",
			Year: 2021, Authors: []string{"Edward J. Hu", "Yelong Shen", "Weizhu Chen"},
			Categories: []string{"cs.CL", "cs.AI", "cs.LG"},
			URL:        "https://arxiv.org/abs/2106.09685",
		},
		{
			ID: "2305.14314", Source: "arxiv",
			Title: "QLoRA: Efficient Finetuning of Quantized LLMs",
			Abstract: "We present QLoRA, an efficient finetuning approach that reduces memory usage enough " +
				"to finetune a 65B parameter model on a single 48GB GPU.",
			Year: 2023, Authors: []string{"Tim Dettmers", "Artidoro Pagnoni"},
			Categories: []string{"cs.LG"},
			URL:        "https://arxiv.org/abs/2305.14314",
		},
		{
			ID: "hep-th/9901001", Source: "arxiv", Title: "An Old-Style Identifier",
			Abstract: "Low rank adaptation, before it was cool.",
			Year:     1999, Authors: []string{"A. Physicist"}, Categories: []string{"hep-th"},
			URL: "https://arxiv.org/abs/hep-th/9901001",
		},
	}
	if len(hits) != len(want) {
		t.Fatalf("%d hits, want %d", len(hits), len(want))
	}
	for i, h := range hits {
		if !reflect.DeepEqual(h.Work, want[i]) {
			t.Errorf("hit %d:\n got %+v\nwant %+v", i, h.Work, want[i])
		}
	}
}

func TestSearchQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"diffusion models", "all:diffusion AND all:models"},
		{"The Effect of Dropout on CNNs!", "all:effect AND all:dropout AND all:cnns"},
		{"self-supervised (contrastive) learning", "all:self AND all:supervised AND all:contrastive AND all:learning"},
		{"ti:transformer AND au:vaswani", "ti:transformer AND au:vaswani"},
		{"of the and", ""},
	}
	for _, tt := range tests {
		if got := arxiv.SearchQuery(tt.in); got != tt.want {
			t.Errorf("SearchQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorFeed(t *testing.T) {
	body := fixture(t, "error.xml")
	for _, status := range []int{http.StatusBadRequest, http.StatusOK} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				n.Add(1)
				w.WriteHeader(status)
				w.Write(body)
			}))
			defer srv.Close()
			c := &arxiv.Client{BaseURL: srv.URL, MinInterval: time.Millisecond}
			_, err := c.Search(context.Background(), "anything", 5)
			if err == nil {
				t.Fatal("got nil error, want one")
			}
			for _, want := range []string{"arxiv", "max_results must be non-negative"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if got := n.Load(); got != 1 {
				t.Errorf("%d requests, want 1", got)
			}
		})
	}
}

func TestNoResults(t *testing.T) {
	srv := httptest.NewServer(atom(fixture(t, "empty.xml")))
	defer srv.Close()
	hits, err := (&arxiv.Client{BaseURL: srv.URL}).Search(context.Background(), "zzzqqq", 10)
	if err != nil || len(hits) != 0 {
		t.Fatalf("Search = %d hits, %v; want none, nil", len(hits), err)
	}
}

// starts records when requests arrive.
type starts struct {
	mu    sync.Mutex
	times []time.Time
}

func (s *starts) handler(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.times = append(s.times, time.Now())
		s.mu.Unlock()
		atom(body)(w, r)
	}
}

func (s *starts) checkSpacing(t *testing.T, n int, interval time.Duration) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.times) != n {
		t.Fatalf("%d requests, want %d", len(s.times), n)
	}
	for i := 1; i < n; i++ {
		// The client spaces its sends, the server sees arrivals: the first
		// request's connection set-up may make the gap look a little short.
		if gap := s.times[i].Sub(s.times[i-1]); gap < interval-20*time.Millisecond {
			t.Errorf("requests %d and %d %v apart, want at least %v", i, i+1, gap, interval)
		}
	}
}

func TestMinInterval(t *testing.T) {
	t.Parallel()
	body := fixture(t, "query.xml")
	var s starts
	srv := httptest.NewServer(s.handler(body))
	defer srv.Close()
	interval := 150 * time.Millisecond
	c := &arxiv.Client{BaseURL: srv.URL, MinInterval: interval}
	var wg sync.WaitGroup
	for _, q := range []string{"lora", "qlora", "adapters"} {
		wg.Go(func() {
			if _, err := c.Search(context.Background(), q, 3); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	s.checkSpacing(t, 3, interval)
}

// The default interval is the three seconds arXiv asks for.
func TestDefaultMinInterval(t *testing.T) {
	t.Parallel()
	var s starts
	srv := httptest.NewServer(s.handler(fixture(t, "query.xml")))
	defer srv.Close()
	c := &arxiv.Client{BaseURL: srv.URL}
	for _, q := range []string{"lora", "qlora"} {
		if _, err := c.Search(context.Background(), q, 3); err != nil {
			t.Fatal(err)
		}
	}
	s.checkSpacing(t, 2, arxiv.DefaultMinInterval)
}

// Retries keep the interval too.
func TestMinIntervalOnRetry(t *testing.T) {
	t.Parallel()
	body := fixture(t, "query.xml")
	var s starts
	ok := s.handler(body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		first := len(s.times) == 0
		s.mu.Unlock()
		if first {
			s.mu.Lock()
			s.times = append(s.times, time.Now())
			s.mu.Unlock()
			fail(w, http.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		ok(w, r)
	}))
	defer srv.Close()
	interval := 150 * time.Millisecond
	c := &arxiv.Client{BaseURL: srv.URL, MinInterval: interval, Policy: online.Policy{BaseDelay: time.Millisecond}}
	if _, err := c.Search(context.Background(), "lora", 3); err != nil {
		t.Fatal(err)
	}
	s.checkSpacing(t, 2, interval)
}
