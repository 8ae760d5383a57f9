package mcpserver

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Resource URIs: the list of runs, and each run's status, report and ideas.
const (
	runsURI     = "mlrc://runs"
	runTemplate = "mlrc://runs/{id}"
)

func (s *Server) addResources() {
	s.mcp.AddResource(&mcp.Resource{
		URI: runsURI, Name: "runs", MIMEType: "application/json",
		Description: "Every run in the store: id, kind, status, model, created.",
	}, s.readRuns)
	for _, t := range []struct{ suffix, name, mime, desc string }{
		{"", "run", "application/json", "A run's status (as run_status)."},
		{"/report", "report", "text/markdown", "A run's report (report.md)."},
		{"/ideas", "ideas", "application/json", "The ideas of an idea or research run (ideas.json)."},
	} {
		s.mcp.AddResourceTemplate(&mcp.ResourceTemplate{
			URITemplate: runTemplate + t.suffix, Name: t.name, MIMEType: t.mime, Description: t.desc,
		}, s.readRun)
	}
}

func (s *Server) readRuns(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	runs, err := s.cfg.Store.Runs(ctx)
	if err != nil {
		return nil, err
	}
	type row struct {
		ID      string `json:"id"`
		Kind    string `json:"kind"`
		Status  string `json:"status"`
		Model   string `json:"model,omitempty"`
		Created string `json:"created"`
	}
	rows := make([]row, 0, len(runs))
	for _, r := range runs {
		rows = append(rows, row{r.ID, r.Kind, r.Status, r.Model, r.Created.Format("2006-01-02T15:04:05Z")})
	}
	return jsonContents(req.Params.URI, rows)
}

func (s *Server) readRun(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	rest, ok := strings.CutPrefix(uri, runsURI+"/")
	if !ok || rest == "" {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	id, part, _ := strings.Cut(rest, "/")
	if strings.ContainsAny(id, "/\\") || id == "." || id == ".." {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	switch part {
	case "":
		st, err := s.status(ctx, id)
		if err != nil {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		return jsonContents(uri, st)
	case "report", "ideas":
		sum, err := s.cfg.Store.Summary(ctx, id)
		if err != nil {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		name, mime := "report.md", "text/markdown"
		if part == "ideas" {
			name, mime = "ideas.json", "application/json"
		}
		b, err := os.ReadFile(filepath.Join(sum.Dir, name))
		if err != nil {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: mime, Text: string(b)}}}, nil
	}
	return nil, mcp.ResourceNotFoundError(uri)
}

func jsonContents(uri string, v any) (*mcp.ReadResourceResult, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(b)}}}, nil
}
