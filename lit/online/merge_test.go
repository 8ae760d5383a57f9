package online

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/mlrc/mlrc/lit"
)

func TestMerge(t *testing.T) {
	s2 := answer(nil,
		lit.Work{ID: "a8ca46b1", Source: "semanticscholar", Title: "LoRA: Low-Rank Adaptation of Large Language Models",
			Year: 2021, URL: "https://arxiv.org/abs/2106.09685"},
		lit.Work{ID: "53d8b356", Source: "semanticscholar", Title: "Prefix-Tuning: Optimizing Continuous Prompts for Generation",
			URL: "https://doi.org/10.18653/v1/2021.acl-long.353"},
	)
	openalex := answer(nil,
		lit.Work{ID: "W2963339397", Source: "openalex", Title: "Parameter-Efficient Transfer Learning for NLP",
			URL: "http://proceedings.mlr.press/v97/houlsby19a.html"},
		// The same DOI as Semantic Scholar's second, in other case.
		lit.Work{ID: "W3175222322", Source: "openalex", Title: "Prefix-tuning: optimizing continuous prompts for generation",
			Abstract: "Fine-tuning is the de facto way…", URL: "https://doi.org/10.18653/V1/2021.ACL-LONG.353"},
		// arXiv's DOI for LoRA.
		lit.Work{ID: "W3168867926", Source: "openalex", Title: "LoRA", Authors: []string{"Edward J. Hu"},
			URL: "https://doi.org/10.48550/arxiv.2106.09685"},
	)
	arxiv := answer(nil,
		lit.Work{ID: "2106.09685", Source: "arxiv", Title: "LoRA: Low-Rank Adaptation of Large Language Models",
			Abstract: "An important paradigm…", Categories: []string{"cs.CL"}, URL: "https://arxiv.org/abs/2106.09685"},
		// Same title as OpenAlex's first, up to case and punctuation.
		lit.Work{ID: "1902.00751", Source: "arxiv", Title: "Parameter-efficient transfer learning for NLP.",
			URL: "https://arxiv.org/abs/1902.00751"},
	)
	failing := answer(errors.New("down"))

	hits, err := Merge(s2, openalex, failing, arxiv).Search(context.Background(), "lora", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hits {
		got = append(got, h.Work.ID)
	}
	// LoRA: ranks 1, 3, 1; Houlsby: 1, 2; prefix-tuning: 2, 2.
	if want := []string{"a8ca46b1", "W2963339397", "53d8b356"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("merged ids %v, want %v", got, want)
	}
	lora := hits[0]
	if lora.Rank != 1 || lora.Work.Year != 2021 || lora.Work.Abstract != "An important paradigm…" ||
		!reflect.DeepEqual(lora.Work.Authors, []string{"Edward J. Hu"}) || !reflect.DeepEqual(lora.Work.Categories, []string{"cs.CL"}) {
		t.Errorf("merged LoRA %+v: want the first copy's fields with the gaps filled from the others", lora)
	}
	if want := 2/float64(rrfK+1) + 1/float64(rrfK+3); math.Abs(lora.Score-want) > 1e-12 {
		t.Errorf("LoRA score %v, want %v", lora.Score, want)
	}
	if hits[2].Work.Abstract == "" {
		t.Error("prefix-tuning: abstract not filled from the DOI duplicate")
	}

	if hits, _ := Merge(s2, openalex, arxiv).Search(context.Background(), "lora", 2); len(hits) != 2 {
		t.Errorf("k=2: %d hits", len(hits))
	}
}

func TestMergeAllFail(t *testing.T) {
	_, err := Merge(answer(errors.New("a down")), answer(errors.New("b down"))).Search(context.Background(), "q", 3)
	var se *SourcesError
	if !errors.As(err, &se) || len(se.Errs) != 2 {
		t.Fatalf("error %v, want a *SourcesError with both failures", err)
	}
}
