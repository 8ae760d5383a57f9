package cli

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/internal/buildinfo"
	"github.com/mlrc/mlrc/mcpserver"
)

// EnvMCPToken is the bearer token `mlrc mcp --http` requires of clients.
const EnvMCPToken = "MLRC_MCP_TOKEN"

func (a *app) mcpCommand() *cobra.Command {
	var addr, index string
	var roots []string
	cmd := &cobra.Command{
		Use:   "mcp [--http ADDR] [--root DIR ...]",
		Short: "Serve mlrc to other agents over the Model Context Protocol (stdio, or streamable HTTP)",
		Long: `Serve mlrc's tools to MCP clients (chat clients, coding agents): lit_search, paper_read, task_check,
idea_generate, research_start, run_status, run_events, gate_answer, run_stop and run_report, and runs,
reports and ideas as resources (mlrc://runs, mlrc://runs/ID, mlrc://runs/ID/report, mlrc://runs/ID/ideas).

By default the server speaks over stdin and stdout, as MCP clients start it. With --http ADDR it serves
streamable HTTP at ADDR/mcp; on an address other than localhost it requires a bearer token, from
$` + EnvMCPToken + `, and refuses to start without one.

Paths clients name (papers, tasks, scripts) must lie under a --root directory (default: the current
directory). Runs started here are mlrc processes of their own: they go on if the server exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(roots) == 0 {
				wd, err := os.Getwd()
				if err != nil {
					return err
				}
				roots = []string{wd}
			}
			srv, st, err := a.mcpServer(cmd.Context(), roots, index)
			if err != nil {
				return err
			}
			defer st.Close()
			if addr == "" {
				return srv.MCP().Run(cmd.Context(), &mcp.StdioTransport{})
			}
			return a.serveMCPHTTP(cmd.Context(), srv, addr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "http", "", "serve streamable HTTP at this address (e.g. 127.0.0.1:8765) instead of stdio")
	f.StringArrayVar(&roots, "root", nil, "a directory clients' paths may lie in (repeat; default: the current directory)")
	f.StringVar(&index, "index", "", "literature index for lit_search (default: literature: in the config, or <runs-dir>/literature.db)")
	return cmd
}

// mcpServer builds the server: children are this executable with the same
// configuration, store and runs directory.
func (a *app) mcpServer(ctx context.Context, roots []string, index string) (*mcpserver.Server, interface{ Close() error }, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	runsDir, err := filepath.Abs(a.cfg.RunsDir)
	if err != nil {
		return nil, nil, err
	}
	storePath, err := filepath.Abs(a.cfg.StorePath())
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(runsDir, 0o755); err != nil {
		return nil, nil, err
	}
	command := []string{exe, "--runs-dir", runsDir, "--store", storePath}
	if a.flags.config != "" {
		c, err := filepath.Abs(a.flags.config)
		if err != nil {
			return nil, nil, err
		}
		command = append(command, "--config", c)
	}
	if a.cfg.Model != "" {
		command = append(command, "--model", a.cfg.Model)
	}
	if a.cfg.Budget.Tokens > 0 {
		command = append(command, "--budget-tokens", fmt.Sprint(a.cfg.Budget.Tokens))
	}
	if a.cfg.Budget.Dollars > 0 {
		command = append(command, "--budget-dollars", fmt.Sprint(a.cfg.Budget.Dollars))
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	lit, err := filepath.Abs(a.literaturePath(index))
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	version, _ := buildinfo.Get()
	srv, err := mcpserver.New(mcpserver.Config{
		Command:    command,
		Store:      st,
		RunsDir:    runsDir,
		Literature: lit,
		Roots:      roots,
		Version:    version,
	})
	if err != nil {
		st.Close()
		return nil, nil, usageError("%w", err)
	}
	return srv, st, nil
}

// serveMCPHTTP serves streamable HTTP at addr until ctx ends.
func (a *app) serveMCPHTTP(ctx context.Context, srv *mcpserver.Server, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError("--http %s: want HOST:PORT (e.g. 127.0.0.1:8765): %v", addr, err)
	}
	token := a.env.Getenv(EnvMCPToken)
	if !loopback(host) && token == "" {
		return usageError("--http %s is reachable from other machines: set %s to a secret token (e.g. openssl rand -hex 32) that clients send as \"Authorization: Bearer TOKEN\", or bind to 127.0.0.1", addr, EnvMCPToken)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv.MCP() }, nil)
	mux := http.NewServeMux()
	mux.Handle("/mcp", requireToken(token, h))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(a.env.Stderr, "mlrc mcp: serving http://%s/mcp\n", l.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// requireToken lets a request through only with "Authorization: Bearer
// token"; an empty token lets every request through.
func requireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mlrc"`)
			http.Error(w, "mlrc mcp: a bearer token is required (Authorization: Bearer $"+EnvMCPToken+")", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
