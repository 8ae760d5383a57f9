package semanticscholar_test

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
	"github.com/mlrc/mlrc/lit/semanticscholar"
)

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/search.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fail answers like the service: the API says {"error": …}; its gateway,
// which turns away 429s and bad keys, says {"message": …}.
func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	key := "error"
	if status == http.StatusTooManyRequests || status == http.StatusForbidden || status >= 500 {
		key = "message"
	}
	json.NewEncoder(w).Encode(map[string]string{key: msg})
}

func TestContract(t *testing.T) {
	body := fixture(t)
	onlinetest.Run(t, onlinetest.Harness{
		Service: semanticscholar.Name,
		New: func(baseURL string, p online.Policy, c online.Cache, ttl time.Duration) lit.Source {
			return &semanticscholar.Client{BaseURL: baseURL, Policy: p, MinInterval: -1, Cache: c, CacheTTL: ttl}
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
		if r.URL.Path != "/graph/v1/paper/search" {
			t.Errorf("path %q, want /graph/v1/paper/search", r.URL.Path)
		}
		if got, want := q.Get("query"), "low rank adaptation"; got != want {
			t.Errorf("query %q, want %q (hyphens find nothing)", got, want)
		}
		if got, want := q.Get("limit"), "4"; got != want {
			t.Errorf("limit %q, want %q", got, want)
		}
		if got, want := q.Get("fields"), "paperId,title,abstract,year,authors,externalIds,url"; got != want {
			t.Errorf("fields %q, want %q", got, want)
		}
		if got, want := r.Header.Get("x-api-key"), "s2-key"; got != want {
			t.Errorf("x-api-key %q, want %q", got, want)
		}
		w.Write(body)
	}))
	defer srv.Close()
	c := &semanticscholar.Client{BaseURL: srv.URL + "/graph/v1/", APIKey: "s2-key"}
	hits, err := c.Search(context.Background(), " low-rank adaptation ", 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []lit.Work{
		{
			ID: "a8ca46b171467ceb2d7652fbfb67fe701ad86092", Source: "semanticscholar",
			Title:    "LoRA: Low-Rank Adaptation of Large Language Models",
			Abstract: "An important paradigm of natural language processing consists of large-scale pre-training on general domain data and adaptation to particular tasks or domains. As we pre-train larger models, full fine-tuning, which retrains all model parameters, becomes less feasible.",
			Year:     2021, Authors: []string{"J. E. Hu", "Yelong Shen", "Phillip Wallis"},
			URL: "https://arxiv.org/abs/2106.09685",
		},
		{
			ID: "53d8b356551a2361020a948f64454a6d599af69f", Source: "semanticscholar",
			Title: "Prefix-Tuning: Optimizing Continuous Prompts for Generation",
			Year:  2021, Authors: []string{"Xiang Lisa Li", "Percy Liang"},
			URL: "https://doi.org/10.18653/v1/2021.acl-long.353",
		},
		{
			ID: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c", Source: "semanticscholar",
			Title: "Adapters for Everyone: A Workshop Note", Abstract: "We survey adapters.",
			URL: "https://www.semanticscholar.org/paper/0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c",
		},
	}
	if len(hits) != len(want) {
		t.Fatalf("%d hits, want %d (the untitled paper left out)", len(hits), len(want))
	}
	for i, h := range hits {
		if !reflect.DeepEqual(h.Work, want[i]) {
			t.Errorf("hit %d:\n got %+v\nwant %+v", i, h.Work, want[i])
		}
		if h.Rank != i+1 {
			t.Errorf("hit %d: rank %d, want %d", i, h.Rank, i+1)
		}
	}
}

func TestNoResults(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"total": 0, "offset": 0}`))
	}))
	defer srv.Close()
	hits, err := (&semanticscholar.Client{BaseURL: srv.URL}).Search(context.Background(), "zzzqqq", 10)
	if err != nil || len(hits) != 0 {
		t.Fatalf("Search = %d hits, %v; want none, nil", len(hits), err)
	}
}

func TestHints(t *testing.T) {
	tests := []struct {
		name   string
		key    string
		status int
		want   string
	}{
		{"bad key", "wrong", http.StatusForbidden, "SEMANTIC_SCHOLAR_API_KEY"},
		{"shared pool", "", http.StatusTooManyRequests, "API key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				fail(w, tt.status, "Forbidden")
			}))
			defer srv.Close()
			c := &semanticscholar.Client{BaseURL: srv.URL, APIKey: tt.key, MinInterval: -1,
				Policy: online.Policy{Attempts: 1}}
			_, err := c.Search(context.Background(), "lora", 3)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "wrong") {
				t.Errorf("error %q shows the key", err)
			}
		})
	}
}

func TestEmptyQuery(t *testing.T) {
	_, err := (&semanticscholar.Client{BaseURL: "http://127.0.0.1:1"}).Search(context.Background(), "  ", 3)
	if err == nil || !strings.Contains(err.Error(), "semanticscholar") {
		t.Fatalf("error %v, want one naming the service", err)
	}
}
