package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mlrc/mlrc/agent"
)

// Entry is one model or dataset the agent can use.
type Entry struct {
	Kind    string `json:"kind"`   // "estimator", "module", "dataset", "hub-model", "hub-dataset"
	Name    string `json:"name"`   // how to import or load it
	Source  string `json:"source"` // "scikit-learn", "torch", "debian", "huggingface", …
	Summary string `json:"summary,omitempty"`
}

// Catalog lists what is installed (asked once of the Python interpreter)
// and, when reachable, what the Hugging Face Hub has.
type Catalog struct {
	Python string
	// HubURL is the Hugging Face Hub API; empty disables it.
	HubURL string
	// DatasetsDir holds Debian's dataset packages.
	DatasetsDir string
	Client      *http.Client

	once    sync.Once
	entries []Entry
	err     error
}

// NewCatalog returns a catalog using python; the Hub is at HF_ENDPOINT or
// huggingface.co, and is skipped quickly when unreachable.
func NewCatalog(python string, getenv func(string) string) *Catalog {
	hub := "https://huggingface.co"
	if v := getenv("HF_ENDPOINT"); v != "" {
		hub = strings.TrimRight(v, "/")
	}
	if getenv("HF_HUB_OFFLINE") == "1" {
		hub = ""
	}
	return &Catalog{Python: python, HubURL: hub, DatasetsDir: "/usr/share/datasets", Client: &http.Client{Timeout: 3 * time.Second}}
}

// introspect asks Python what is installed. One interpreter start; each
// library that fails to import is simply absent.
const introspect = `
import json, inspect, warnings
warnings.filterwarnings("ignore")
out = []
def first(doc):
    doc = (doc or "").strip().splitlines()
    return doc[0][:160] if doc else ""
try:
    from sklearn.utils import all_estimators
    for name, cls in all_estimators():
        out.append({"kind": "estimator", "name": cls.__module__.split("._")[0] + "." + name, "source": "scikit-learn", "summary": first(cls.__doc__)})
    import sklearn.datasets as d
    for name in dir(d):
        if name.startswith("load_"):
            out.append({"kind": "dataset", "name": "sklearn.datasets." + name, "source": "scikit-learn (bundled)", "summary": first(getattr(d, name).__doc__)})
except Exception:
    pass
try:
    import torch.nn as nn
    for name, obj in vars(nn).items():
        if inspect.isclass(obj) and issubclass(obj, nn.Module) and not name.startswith("_"):
            out.append({"kind": "module", "name": "torch.nn." + name, "source": "torch", "summary": first(obj.__doc__)})
except Exception:
    pass
try:
    import xgboost
    for name in ("XGBClassifier", "XGBRegressor", "XGBRanker"):
        out.append({"kind": "estimator", "name": "xgboost." + name, "source": "xgboost", "summary": first(getattr(xgboost, name).__doc__)})
except Exception:
    pass
print(json.dumps(out))
`

func (c *Catalog) installed(ctx context.Context) ([]Entry, error) {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, c.Python, "-c", introspect)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "OMP_NUM_THREADS=1", "HOME=/tmp"}
		out, err := cmd.Output()
		if err != nil {
			c.err = fmt.Errorf("ask %s what is installed: %v", c.Python, err)
		} else if err := json.Unmarshal(out, &c.entries); err != nil {
			c.err = fmt.Errorf("read the installed catalog: %v", err)
		}
		if dirs, err := os.ReadDir(c.DatasetsDir); err == nil {
			for _, d := range dirs {
				if d.IsDir() {
					c.entries = append(c.entries, Entry{Kind: "dataset", Name: filepath.Join(c.DatasetsDir, d.Name()), Source: "debian"})
				}
			}
		}
	})
	return c.entries, c.err
}

// Search returns the entries best matching query, installed first, then the
// Hub's; notes say what could not be searched.
func (c *Catalog) Search(ctx context.Context, query string, limit int) ([]Entry, []string) {
	var notes []string
	entries, err := c.installed(ctx)
	if err != nil {
		notes = append(notes, err.Error())
	}
	words := strings.Fields(strings.ToLower(query))
	type scored struct {
		e Entry
		s int
	}
	var hits []scored
	for _, e := range entries {
		name, sum := strings.ToLower(e.Name), strings.ToLower(e.Summary)
		compact := strings.ReplaceAll(name, "_", "")
		s := 0
		for _, w := range words {
			switch {
			case strings.Contains(name, w) || strings.Contains(compact, strings.ReplaceAll(w, " ", "")):
				s += 3
			case strings.Contains(sum, w):
				s++
			}
		}
		if s > 0 {
			hits = append(hits, scored{e, s})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].s > hits[j].s })
	var out []Entry
	for _, h := range hits {
		if len(out) >= limit {
			break
		}
		out = append(out, h.e)
	}
	if c.HubURL != "" {
		hub, err := c.hub(ctx, query, max(3, limit/2))
		if err != nil {
			notes = append(notes, "Hugging Face Hub not searched: "+err.Error())
		}
		out = append(out, hub...)
	}
	return out, notes
}

func (c *Catalog) hub(ctx context.Context, query string, limit int) ([]Entry, error) {
	var out []Entry
	for _, kind := range []string{"models", "datasets"} {
		u := fmt.Sprintf("%s/api/%s?search=%s&limit=%d&sort=downloads", c.HubURL, kind, url.QueryEscape(query), limit)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return out, err
		}
		resp, err := c.Client.Do(req)
		if err != nil {
			return out, fmt.Errorf("unreachable (%v)", shortErr(err))
		}
		var items []struct {
			ID        string   `json:"id"`
			Pipeline  string   `json:"pipeline_tag"`
			Downloads int      `json:"downloads"`
			Tags      []string `json:"tags"`
		}
		err = json.NewDecoder(resp.Body).Decode(&items)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return out, fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if err != nil {
			return out, fmt.Errorf("malformed answer: %v", err)
		}
		for _, it := range items {
			sum := fmt.Sprintf("%d downloads", it.Downloads)
			if it.Pipeline != "" {
				sum = it.Pipeline + ", " + sum
			}
			out = append(out, Entry{Kind: "hub-" + strings.TrimSuffix(kind, "s"), Name: it.ID, Source: "huggingface", Summary: sum})
		}
	}
	return out, nil
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

type retrieveParams struct {
	Query string `json:"query" jsonschema:"keywords, e.g. 'gradient boosting regressor' or 'image dataset'"`
	Limit int    `json:"limit,omitempty" jsonschema:"how many results; default 10"`
}

func retrieveTool(c *Catalog) agent.Tool {
	return agent.NewFunc("retrieve", doc("retrieve"), func(ctx context.Context, p retrieveParams) (agent.Result, error) {
		limit := p.Limit
		if limit <= 0 {
			limit = 10
		}
		entries, notes := c.Search(ctx, p.Query, limit)
		var b strings.Builder
		if len(entries) == 0 {
			fmt.Fprintf(&b, "Nothing matches %q.", p.Query)
		}
		for _, e := range entries {
			fmt.Fprintf(&b, "- %s [%s, %s]", e.Name, e.Kind, e.Source)
			if e.Summary != "" {
				fmt.Fprintf(&b, ": %s", e.Summary)
			}
			b.WriteString("\n")
		}
		for _, n := range notes {
			fmt.Fprintf(&b, "(%s)\n", n)
		}
		return agent.Result{Content: b.String(), Summary: fmt.Sprintf("retrieve(%q): %d results", p.Query, len(entries))}, nil
	})
}
