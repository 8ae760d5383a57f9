package openalex

import "testing"

func TestAbstract(t *testing.T) {
	tests := []struct {
		name string
		inv  map[string][]int
		want string
	}{
		{"nil", nil, ""},
		{"empty", map[string][]int{}, ""},
		{"repeated words", map[string][]int{"the": {0, 3}, "cat": {1}, "saw": {2}, "dog.": {4}}, "the cat saw the dog."},
		{"gap skipped", map[string][]int{"a": {0}, "c": {2}}, "a c"},
		{"bad positions ignored", map[string][]int{"ok": {0}, "neg": {-1}, "far": {1 << 30}}, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := abstract(tt.inv); got != tt.want {
				t.Errorf("abstract = %q, want %q", got, tt.want)
			}
		})
	}
}
