package paper

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseArxivID(t *testing.T) {
	for _, tc := range []struct {
		in      string
		id, ver string
		ok      bool
	}{
		{"2408.14033", "2408.14033", "", true},
		{"arXiv:2408.14033v2", "2408.14033", "v2", true},
		{"arxiv: 2408.14033", "2408.14033", "", true},
		{" ARXIV:2408.14033 ", "2408.14033", "", true},
		{"https://arxiv.org/abs/2408.14033", "2408.14033", "", true},
		{"https://arxiv.org/pdf/2408.14033v1", "2408.14033", "v1", true},
		{"https://arxiv.org/pdf/2408.14033v1.pdf", "2408.14033", "v1", true},
		{"http://export.arxiv.org/abs/2408.14033/", "2408.14033", "", true},
		{"https://www.arxiv.org/html/2408.14033v3", "2408.14033", "v3", true},
		{"1412.6980", "1412.6980", "", true},               // four digits before 2015
		{"hep-th/9901001v2", "hep-th/9901001", "v2", true}, // old style
		{"math.GT/0309136", "math.GT/0309136", "", true},
		{"https://arxiv.org/abs/cs/0112017", "cs/0112017", "", true},

		{"", "", "", false},
		{"arXiv:", "", "", false},
		{"2408.1403", "", "", false},     // four digits after 2015
		{"1412.69801", "", "", false},    // five digits before 2015
		{"2413.14033", "", "", false},    // month 13
		{"2408.14033v0", "", "", false},  // versions start at 1
		{"2408.14033 v2", "", "", false}, // stray space
		{"paper.pdf", "", "", false},     // a file name
		{"https://example.org/abs/2408.14033", "", "", false},
		{"https://arxiv.org/list/cs.LG/recent", "", "", false},
		{"https://arxiv.org/abs/", "", "", false},
	} {
		got, ok := ParseArxivID(tc.in)
		if ok != tc.ok || got.ID != tc.id || got.Version != tc.ver {
			t.Errorf("ParseArxivID(%q) = %+v, %v; want {%s %s}, %v", tc.in, got, ok, tc.id, tc.ver, tc.ok)
		}
	}
}

// arxivServer serves the file in testdata for every query and records the
// id_list it was asked for.
func arxivServer(t *testing.T, fixture string) (*httptest.Server, *[]string) {
	t.Helper()
	body, err := os.ReadFile("testdata/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Query().Get("id_list"))
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &asked
}

func TestLoadArxiv(t *testing.T) {
	srv, asked := arxivServer(t, "arxiv_2408.14033.xml")
	for _, spec := range []string{"arXiv:2408.14033v2", "https://arxiv.org/abs/2408.14033v2"} {
		p, err := Load(context.Background(), spec, Options{ArxivAPI: srv.URL + "/api/query"})
		if err != nil {
			t.Fatalf("Load(%q): %v", spec, err)
		}
		if got, want := p.ID, "arxiv:2408.14033"; got != want {
			t.Errorf("ID = %q, want %q", got, want)
		}
		if got, want := p.Source, "https://arxiv.org/abs/2408.14033v2"; got != want {
			t.Errorf("Source = %q, want %q", got, want)
		}
		if got, want := p.Title, "MLR-Copilot: Autonomous Machine Learning Research based on Large Language Models Agents"; got != want {
			t.Errorf("Title = %q, want %q (wrapped whitespace collapsed)", got, want)
		}
		if !strings.HasPrefix(p.Abstract, "Placeholder summary for the paper ingestion tests: a framework") ||
			strings.Contains(p.Abstract, "\n") || strings.Contains(p.Abstract, "  ") {
			t.Errorf("Abstract = %q, want the summary with whitespace collapsed", p.Abstract)
		}
		if got, want := p.Authors, []string{"Ruochen Li", "Teerth Patel", "Qingyun Wang", "Xinya Du"}; !slices.Equal(got, want) {
			t.Errorf("Authors = %q, want %q", got, want)
		}
		if !strings.Contains(p.Text, p.Title) || !strings.Contains(p.Text, p.Abstract) {
			t.Errorf("Text should hold title and abstract: %q", p.Text)
		}
	}
	if got, want := *asked, []string{"2408.14033v2", "2408.14033v2"}; !slices.Equal(got, want) {
		t.Errorf("server was asked for %q, want %q", got, want)
	}
}

func TestLoadArxivNotFound(t *testing.T) {
	for _, fixture := range []string{"arxiv_empty.xml", "arxiv_error.xml"} {
		srv, _ := arxivServer(t, fixture)
		_, err := Load(context.Background(), "2408.99999", Options{ArxivAPI: srv.URL})
		if !errors.Is(err, ErrArxivNotFound) {
			t.Errorf("%s: err = %v, want ErrArxivNotFound", fixture, err)
		}
		if err != nil && !strings.Contains(err.Error(), "2408.99999") {
			t.Errorf("%s: error %q should name the id", fixture, err)
		}
	}
}

func TestLoadArxivUnreachable(t *testing.T) {
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
	}))
	t.Cleanup(unavailable.Close)

	release := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never answers
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(silent.Close)
	t.Cleanup(func() { close(release) }) // runs before silent.Close

	notXML := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html><body>captive portal</body></html>"))
	}))
	t.Cleanup(notXML.Close)

	for _, tc := range []struct {
		name   string
		opt    Options
		detail string
	}{
		{"offline", Options{Offline: true, ArxivAPI: unavailable.URL}, "offline"},
		{"503", Options{ArxivAPI: unavailable.URL}, "503"},
		{"silent", Options{ArxivAPI: silent.URL, Timeout: 300 * time.Millisecond}, "no answer within 300ms"},
		{"not atom", Options{ArxivAPI: notXML.URL}, "not an Atom feed"},
		{"refused", Options{ArxivAPI: "http://127.0.0.1:1/api/query"}, "127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Load(context.Background(), "2408.14033", tc.opt)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %v: the client should give up within its timeout", took)
			}
			if !errors.Is(err, ErrArxivUnreachable) {
				t.Fatalf("err = %v, want ErrArxivUnreachable", err)
			}
			msg := err.Error()
			for _, want := range []string{"cannot reach arXiv for 2408.14033", "pass the paper's PDF or text with --paper FILE", tc.detail} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
		})
	}
}

func TestLoadArxivCanceled(t *testing.T) {
	srv, _ := arxivServer(t, "arxiv_2408.14033.xml")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Load(ctx, "2408.14033", Options{ArxivAPI: srv.URL})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrArxivUnreachable) {
		t.Errorf("err = %v, want context.Canceled (the caller stopped; arXiv is not to blame)", err)
	}
}
