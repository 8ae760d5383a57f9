package idea

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Choice is what a person decides about a ranking.
type Choice struct {
	// Pick is the index (in the ranking) of the chosen idea.
	Pick int
	// Edited replaces the chosen idea when the person edited it.
	Edited *Idea
	// Regenerate asks for new ideas with Feedback.
	Regenerate bool
	Feedback   string
}

// Chooser decides about a ranking: a person at a terminal, or Auto.
type Chooser interface {
	Choose(ctx context.Context, res *Result) (Choice, error)
}

// Auto takes the top idea.
type Auto struct{}

// Choose picks the first idea.
func (Auto) Choose(context.Context, *Result) (Choice, error) { return Choice{Pick: 0}, nil }

// Terminal shows the ranking and reads the decision: a number picks that
// idea, "e N" edits idea N in $EDITOR, "r FEEDBACK" asks for new ideas.
type Terminal struct {
	In     io.Reader
	Out    io.Writer
	Editor string // default $EDITOR, then vi
	reader *bufio.Reader
}

// Choose asks until the answer is understood.
func (t *Terminal) Choose(ctx context.Context, res *Result) (Choice, error) {
	if t.reader == nil {
		t.reader = bufio.NewReader(t.In)
	}
	fmt.Fprintf(t.Out, "\n%s\n", Ranking(res))
	for {
		fmt.Fprintf(t.Out, "Pick an idea [1-%d, Enter = 1], e N to edit idea N, r FEEDBACK for new ideas: ", len(res.Ideas))
		line, err := t.reader.ReadString('\n')
		if err != nil && line == "" {
			return Choice{}, fmt.Errorf("no answer on the terminal (use --auto to take the top idea): %w", err)
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			return Choice{Pick: 0}, nil
		case strings.HasPrefix(line, "r "):
			return Choice{Regenerate: true, Feedback: strings.TrimSpace(line[2:])}, nil
		case strings.HasPrefix(line, "e "):
			n, err := strconv.Atoi(strings.TrimSpace(line[2:]))
			if err != nil || n < 1 || n > len(res.Ideas) {
				fmt.Fprintf(t.Out, "no idea %q\n", line[2:])
				continue
			}
			edited, err := Edit(ctx, t.Editor, t.Out, res.Ideas[n-1])
			if err != nil {
				fmt.Fprintf(t.Out, "edit failed: %v\n", err)
				continue
			}
			return Choice{Pick: n - 1, Edited: edited}, nil
		default:
			n, err := strconv.Atoi(line)
			if err != nil || n < 1 || n > len(res.Ideas) {
				fmt.Fprintf(t.Out, "answer with a number from 1 to %d, e N, or r FEEDBACK\n", len(res.Ideas))
				continue
			}
			return Choice{Pick: n - 1}, nil
		}
	}
}

// Edit opens the idea as JSON in editor (default $EDITOR, then vi), on
// the process's terminal, and reads it back.
func Edit(ctx context.Context, editor string, out io.Writer, i Idea) (*Idea, error) {
	f, err := os.CreateTemp("", "mlrc-idea-*.json")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	b, _ := json.MarshalIndent(i, "", "  ")
	f.Write(b)
	f.Close()
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", editor+` "$1"`, "editor", f.Name())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, out, out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w", editor, err)
	}
	b, err = os.ReadFile(f.Name())
	if err != nil {
		return nil, err
	}
	var edited Idea
	if err := json.Unmarshal(b, &edited); err != nil {
		return nil, fmt.Errorf("the edited idea is not valid JSON: %w", err)
	}
	if strings.TrimSpace(edited.Title) == "" || strings.TrimSpace(edited.Hypothesis) == "" {
		return nil, fmt.Errorf("the edited idea needs a title and a hypothesis")
	}
	return &edited, nil
}

// Select applies a choice to a result: the chosen idea first (edited if it
// was), the rest in their order, ranks renumbered.
func Select(res *Result, c Choice) {
	if c.Pick < 0 || c.Pick >= len(res.Ideas) {
		return
	}
	chosen := res.Ideas[c.Pick]
	if c.Edited != nil {
		e := *c.Edited
		e.ID, e.Review, e.Novelty, e.Score = chosen.ID, chosen.Review, chosen.Novelty, chosen.Score
		chosen = e
		res.Feedback = append(res.Feedback, "edited "+chosen.ID)
	}
	if c.Pick > 0 {
		res.Why = fmt.Sprintf("%s was picked by a person at the gate (ranked %d by the rule)", chosen.ID, c.Pick+1)
	}
	rest := append(append([]Idea{}, res.Ideas[:c.Pick]...), res.Ideas[c.Pick+1:]...)
	res.Ideas = append([]Idea{chosen}, rest...)
	for i := range res.Ideas {
		res.Ideas[i].Rank = i + 1
	}
}
