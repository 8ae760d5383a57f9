package cli

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/gate"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/web"
)

func (a *app) serveCommand() *cobra.Command {
	addr := web.DefaultAddr
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT]",
		Short: "The web UI: the runs, each run live, two runs compared, human gates answered from the browser",
		Long: `Serves the web UI of the run store on 127.0.0.1:8765: the runs (filter by task and status), a page
per run that follows it live (phases, ideas, plan, steps, the metric per step, the tree, validation, the
report, tokens and cost), the comparison of two runs, and the human gates of runs started with --human,
answerable there: the first answer, from the browser or the terminal, wins.

Another address than loopback needs a token: MLRC_SERVE_TOKEN, or one generated and printed once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			loop, err := web.Loopback(addr)
			if err != nil {
				return usageError("--addr: %w", err)
			}
			token, from := a.env.Getenv("MLRC_SERVE_TOKEN"), "MLRC_SERVE_TOKEN"
			if !loop && token == "" {
				token, from = web.NewToken(), "generated"
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			srv, err := web.New(web.Options{Store: st, Addr: addr, Token: token, Redact: a.redact, Log: a.log})
			if err != nil {
				return usageError("%w", err)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			out := a.env.Stdout
			url := "http://" + ln.Addr().String() + "/"
			if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
				// Every interface: name the machine rather than [::].
				host, _ := os.Hostname()
				url = "http://" + net.JoinHostPort(orText(host, "localhost"), strconv.Itoa(tcp.Port)) + "/"
			}
			switch {
			case from == "generated":
				fmt.Fprintf(out, "mlrc serve: %s?token=%s\n  (the token is shown once; set MLRC_SERVE_TOKEN to choose it)\n", url, token)
			case token != "":
				fmt.Fprintf(out, "mlrc serve: %s?token=<MLRC_SERVE_TOKEN>\n", url)
			default:
				fmt.Fprintf(out, "mlrc serve: %s\n", url)
			}
			fmt.Fprintf(out, "  store %s · Ctrl-C stops\n", st.Path())
			return srv.Serve(ctx, ln)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", addr, "address to listen on; beyond loopback a token is required")
	return cmd
}

// gateHuman asks at the run's human gates on this terminal and through the
// store, where the web UI (mlrc serve) answers too: the first answer wins
// and the terminal is told of one given elsewhere. With no terminal (nohup)
// the run waits for an answer from the web.
func (a *app) gateHuman(run *store.Run) *gate.Human {
	if a.console == nil {
		a.console = &gate.Console{In: a.env.Stdin, Out: a.env.Stdout}
	}
	return &gate.Human{Run: run, Console: a.console}
}
