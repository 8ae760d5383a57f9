package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/research"
)

func (a *app) llmCommand() *cobra.Command {
	var system string
	var noStream bool
	cmd := &cobra.Command{
		Use:   `llm [--model M] [--system S] "prompt"`,
		Short: "Send one prompt to the model and print its reply (checks the model configuration)",
		Long: `Send one prompt to the configured model and print the reply on stdout.
The prompt is the arguments, or standard input when the only argument is "-".
The call is recorded as a run in the store like every other, with tokens and cost.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prompt := strings.Join(args, " ")
			if prompt == "-" {
				b, err := io.ReadAll(a.env.Stdin)
				if err != nil {
					return fmt.Errorf("read prompt from stdin: %w", err)
				}
				prompt = string(b)
			}
			if strings.TrimSpace(prompt) == "" {
				return usageError("the prompt is empty: give it as arguments or on stdin with -")
			}
			return a.runLLM(cmd.Context(), system, prompt, !noStream && a.cfg.LLM.Stream)
		},
	}
	cmd.Flags().StringVar(&system, "system", "", "system prompt")
	cmd.Flags().BoolVar(&noStream, "no-stream", false, "wait for the whole reply instead of streaming it")
	return cmd
}

func (a *app) runLLM(ctx context.Context, system, prompt string, stream bool) (err error) {
	name, err := a.modelName(ctx)
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	// Fail on a bad model name or a missing key before a run is created.
	if _, err := a.backend(name, st); err != nil {
		return usageError("%w", err)
	}
	s, err := a.startRun(ctx, st, "llm", name)
	if err != nil {
		return err
	}
	defer s.close()
	defer func() { a.finishRun(s, err) }()

	meter := a.meter()
	model, err := a.model(name, st, meter, s.run)
	if err != nil {
		return err
	}
	step, err := s.run.BeginStep(ctx, "llm", "completion", map[string]string{"system": system, "prompt": prompt})
	if err != nil {
		return err
	}
	req := &llm.Request{System: system, Messages: []llm.Message{llm.UserText(prompt)}, MaxTokens: a.cfg.LLM.MaxTokens, Temperature: a.cfg.LLM.Temperature}
	printed := false
	if stream {
		req.Stream = func(d llm.Delta) {
			if d.Restart && printed {
				fmt.Fprintln(a.env.Stdout)
				fmt.Fprintln(a.env.Stderr, "mlrc: the stream broke off; the reply starts again")
			}
			if d.Text != "" {
				printed = true
				fmt.Fprint(a.env.Stdout, d.Text)
			}
		}
	}
	s.log.Info("calling model", "model", name, "stream", stream)
	resp, callErr := model.Complete(ctx, req)
	if callErr != nil {
		_ = step.End(context.WithoutCancel(ctx), "failed", map[string]string{"error": a.redact.String(callErr.Error())})
		return callErr
	}
	if !printed {
		fmt.Fprint(a.env.Stdout, resp.Text())
	}
	fmt.Fprintln(a.env.Stdout)
	for _, c := range resp.ToolCalls() {
		fmt.Fprintf(a.env.Stderr, "mlrc: the model asked for tool %s(%s), but mlrc llm offers no tools\n", c.Name, c.Arguments)
	}
	if err := step.End(ctx, "done", map[string]any{"reply": resp.Text(), "usage": resp.Usage}); err != nil {
		return err
	}
	usage, cost, _ := meter.Totals()
	fmt.Fprintf(a.env.Stderr, "mlrc: %s · %d tokens in, %d out · %s · run %s\n", name, usage.InputTokens+usage.CacheReadTokens+usage.CacheWriteTokens, usage.OutputTokens, research.CostText(cost), s.run.ID)
	return nil
}

// finishRun records how a run ended: done, stopped (interrupted or out of
// budget) or failed.
func (a *app) finishRun(s *session, err error) {
	ctx := context.Background()
	status, msg := research.EndStatus(err)
	msg = a.redact.String(msg)
	if status != "done" {
		s.log.Info("run ended", "status", status, "err", msg)
	}
	if serr := s.run.SetStatus(ctx, status, msg); serr != nil {
		s.log.Error("record run status", "err", serr)
	}
}
