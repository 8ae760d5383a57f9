package agent

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mlrc/mlrc/llm"
)

// request builds the next request: the brief with a one-line summary of
// every step older than the last KeepLast, then those steps in full (the
// model's message and the tool results, cut at head and tail), then any
// guidance. Its size is bounded whatever the number of steps, so a run's
// cost grows linearly with its length.
func (a *Agent) request(steps []Step, guidance string, tools []llm.Tool) *llm.Request {
	var brief strings.Builder
	brief.WriteString(a.Brief)
	cut := max(0, len(steps)-a.KeepLast)
	if cut > 0 {
		brief.WriteString("\n\n## Progress so far (older steps, summarized)\n")
		for _, s := range steps[:cut] {
			fmt.Fprintf(&brief, "%s\n", StepSummary(s))
		}
	}
	msgs := []llm.Message{llm.UserText(brief.String())}
	for _, s := range steps[cut:] {
		msgs = append(msgs, s.Message)
		var results []llm.ToolResult
		for _, o := range s.Outcomes {
			results = append(results, llm.ToolResult{CallID: o.Call.ID, Name: o.Call.Name, Content: Clip(o.Content, a.MaxContent), IsError: o.IsError})
		}
		if len(results) > 0 {
			msgs = append(msgs, llm.ToolResults(results...))
		}
		if len(s.Notes) > 0 {
			msgs = append(msgs, llm.UserText("Note from mlrc: "+strings.Join(s.Notes, " ")))
		}
	}
	if guidance != "" {
		msgs = append(msgs, llm.UserText("Guidance from the researcher supervising you: "+guidance))
	}
	msgs = mergeUsers(msgs)
	return &llm.Request{System: a.System, Messages: msgs, Tools: tools, MaxTokens: a.MaxTokens}
}

// mergeUsers joins consecutive plain user messages, so that every provider
// sees alternating turns.
func mergeUsers(msgs []llm.Message) []llm.Message {
	var out []llm.Message
	for _, m := range msgs {
		if n := len(out); n > 0 && m.Role == llm.RoleUser && out[n-1].Role == llm.RoleUser {
			out[n-1] = llm.UserText(out[n-1].Text() + "\n\n" + m.Text())
			continue
		}
		out = append(out, m)
	}
	return out
}

// StepSummary is one line about a step: what was called and how it went.
func StepSummary(s Step) string {
	var parts []string
	for _, o := range s.Outcomes {
		parts = append(parts, o.Summary)
	}
	if len(parts) == 0 {
		parts = append(parts, "no tool called: "+Clip(strings.ReplaceAll(s.Message.Text(), "\n", " "), 120))
	}
	line := fmt.Sprintf("- step %d: %s", s.N, strings.Join(parts, "; "))
	if s.Guidance != "" {
		line += fmt.Sprintf(" (guidance: %s)", Clip(s.Guidance, 120))
	}
	return line
}

func summarize(c llm.ToolCall, r Result) string {
	status := "ok"
	if r.IsError {
		status = "error"
	}
	first := strings.TrimSpace(r.Content)
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	return fmt.Sprintf("%s(%s) → %s: %s", c.Name, Clip(string(c.Arguments), 80), status, Clip(first, 100))
}

// Clip shortens s to about n characters, keeping its head and its tail and
// saying how much was left out.
func Clip(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	head := n * 2 / 3
	tail := n - head
	// Do not split a UTF-8 sequence.
	for head > 0 && !startOfRune(s[head]) {
		head--
	}
	start := len(s) - tail
	for start < len(s) && !startOfRune(s[start]) {
		start++
	}
	return fmt.Sprintf("%s\n[… %d characters omitted …]\n%s", s[:head], start-head, s[start:])
}

func startOfRune(b byte) bool { return b&0xC0 != 0x80 }

func names(tools map[string]Tool) []string {
	var out []string
	for k := range tools {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
