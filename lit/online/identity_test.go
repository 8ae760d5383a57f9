package online

import (
	"reflect"
	"testing"

	"github.com/mlrc/mlrc/lit"
)

func TestArXivID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2106.09685", "2106.09685"},
		{"2106.09685v2", "2106.09685"},
		{"0704.0001", "0704.0001"},
		{"http://arxiv.org/abs/2106.09685v2", "2106.09685"},
		{"https://arxiv.org/pdf/2106.09685v1.pdf", "2106.09685"},
		{"https://arxiv.org/abs/hep-th/9901001v3", "hep-th/9901001"},
		{"math.AG/0309136", "math.AG/0309136"},
		{"https://doi.org/10.48550/arXiv.2106.09685", "2106.09685"},
		{"10.48550/arxiv.2106.09685", "2106.09685"},
		{"https://doi.org/10.18653/v1/2021.acl-long.353", ""},
		{"a8ca46b171467ceb2d7652fbfb67fe701ad86092", ""},
		{"W3168867926", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ArXivID(tt.in); got != tt.want {
			t.Errorf("ArXivID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeTitle(t *testing.T) {
	if got, want := NormalizeTitle("  LoRA: Low-Rank\nAdaptation (of) LLMs! "), "lora low rank adaptation of llms"; got != want {
		t.Errorf("NormalizeTitle = %q, want %q", got, want)
	}
}

func TestIdentities(t *testing.T) {
	tests := []struct {
		w    lit.Work
		want []string
	}{
		{lit.Work{ID: "2106.09685v1", Title: "LoRA: Low-Rank Adaptation"},
			[]string{"arxiv:2106.09685", "title:lora low rank adaptation"}},
		{lit.Work{ID: "W1", Title: "Short", URL: "https://doi.org/10.1000/ABC"}, []string{"doi:10.1000/abc"}},
		{lit.Work{ID: "W2", Title: "", URL: "https://doi.org/10.48550/arXiv.1902.00751"}, []string{"arxiv:1902.00751"}},
	}
	for _, tt := range tests {
		if got := identities(tt.w); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("identities(%+v) = %q, want %q", tt.w, got, tt.want)
		}
	}
}
