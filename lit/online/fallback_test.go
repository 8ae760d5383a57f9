package online

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/lit"
)

func TestFallback(t *testing.T) {
	errS2 := &Error{Service: "semanticscholar", Status: 429, Message: "Too Many Requests"}
	errOA := &Error{Service: "openalex", Status: 500}
	lora := lit.Work{ID: "2106.09685", Source: "arxiv", Title: "LoRA"}
	tests := []struct {
		name      string
		sources   []lit.Source
		wantTitle string   // "" for no hits
		wantErrs  []string // in the error, in order; nil for no error
	}{
		{"first answers", []lit.Source{answer(nil, lora), answer(errS2)}, "LoRA", nil},
		{"past failure and empty", []lit.Source{answer(errS2), answer(nil), answer(nil, lora)}, "LoRA", nil},
		{"all fail", []lit.Source{answer(errS2), answer(errOA)}, "", []string{"semanticscholar: HTTP 429", "openalex: HTTP 500"}},
		{"some empty, rest fail", []lit.Source{answer(errS2), answer(nil)}, "", nil},
		{"none", nil, "", []string{"no literature sources"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := Fallback(tt.sources...).Search(context.Background(), "lora", 5)
			if tt.wantErrs == nil && err != nil {
				t.Fatalf("error %v, want none", err)
			}
			if tt.wantErrs != nil {
				if err == nil {
					t.Fatal("got nil error, want one")
				}
				rest := err.Error()
				for _, want := range tt.wantErrs {
					i := strings.Index(rest, want)
					if i < 0 {
						t.Fatalf("error %q does not mention %q (after the ones before)", err, want)
					}
					rest = rest[i+len(want):]
				}
			}
			switch {
			case tt.wantTitle == "" && len(hits) != 0:
				t.Errorf("hits %+v, want none", hits)
			case tt.wantTitle != "" && (len(hits) != 1 || hits[0].Work.Title != tt.wantTitle):
				t.Errorf("hits %+v, want %q", hits, tt.wantTitle)
			}
		})
	}
}

func TestFallbackErrorsUnwrap(t *testing.T) {
	errS2 := &Error{Service: "semanticscholar", Status: 401}
	_, err := Fallback(answer(errors.New("index closed")), answer(errS2)).Search(context.Background(), "q", 1)
	var se *SourcesError
	if !errors.As(err, &se) || len(se.Errs) != 2 {
		t.Fatalf("error %v, want a *SourcesError with 2 errors", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != 401 {
		t.Errorf("errors.As(*Error) = %v, want the 401", e)
	}
}

// A cancelled search stops asking.
func TestFallbackStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	asked := 0
	first := sourceFunc(func(ctx context.Context, _ string, _ int) ([]lit.Hit, error) {
		asked++
		cancel()
		return nil, ctx.Err()
	})
	second := sourceFunc(func(context.Context, string, int) ([]lit.Hit, error) {
		asked++
		return nil, nil
	})
	_, err := Fallback(first, second).Search(ctx, "q", 1)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if asked != 1 {
		t.Errorf("%d sources asked, want 1", asked)
	}
}
