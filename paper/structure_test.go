package paper

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func sectionNames(p *Paper) []string {
	var names []string
	for _, s := range p.Sections {
		names = append(names, s.Name)
	}
	return names
}

func TestFromTextNumbered(t *testing.T) {
	text := `Deep Widgets for Tabular Data

Ann Lee, Bo Chen and Cy Dee
Widget University
ann@widget.example

Abstract
We study widgets on tabular data and find that they
help. Our method beats three baselines.

1 Introduction
Widgets are everywhere. We make three contributions:
1. We define widgets formally in this paper.
2. We train them.

2. Related Work
Prior work on gadgets (Smith 2020) is related.

3 Method
We describe the method.
3.1 Architecture
A stack of layers.
3 Note that this footnote is not a heading when
it continues here.
3.2 Training
We train with Adam.
4 Experiments
Five datasets.
5 Conclusion
Widgets work.

References
[1] A. Author. Title one. In Proc. X, 2020.
[2] B. Author and C. Author. Title two,
    continued on a second line. 2021.
`
	p, err := FromText("widgets.txt", text)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Title, "Deep Widgets for Tabular Data"; got != want {
		t.Errorf("Title = %q, want %q", got, want)
	}
	if got, want := p.Authors, []string{"Ann Lee", "Bo Chen", "Cy Dee"}; !slices.Equal(got, want) {
		t.Errorf("Authors = %q, want %q", got, want)
	}
	if got, want := p.Abstract, "We study widgets on tabular data and find that they help. Our method beats three baselines."; got != want {
		t.Errorf("Abstract = %q, want %q", got, want)
	}
	// "2. Related Work" is styled unlike the others but has a well-known
	// name; "3 Note that …" is in sequence but a sentence; "1." and "2."
	// inside the introduction are a list.
	want := []string{"introduction", "related work", "method", "Architecture", "Training", "experiments", "conclusion", "references"}
	if got := sectionNames(p); !slices.Equal(got, want) {
		t.Errorf("sections = %q, want %q", got, want)
	}
	if s := p.Section("method"); s == nil || s.Heading != "3 Method" || s.Level != 1 || s.Text != "We describe the method." {
		t.Errorf("method section = %+v", s)
	}
	if s := p.Section("Architecture"); s == nil || s.Level != 2 || !strings.Contains(s.Text, "footnote is not a heading") {
		t.Errorf("Architecture section = %+v, want level 2 holding the footnote", s)
	}
	if got, want := p.References, []string{
		"[1] A. Author. Title one. In Proc. X, 2020.",
		"[2] B. Author and C. Author. Title two, continued on a second line. 2021.",
	}; !slices.Equal(got, want) {
		t.Errorf("References = %q, want %q", got, want)
	}
	if p.Text != text || p.ID != "widgets.txt" {
		t.Errorf("ID %q and Text should be the input", p.ID)
	}
}

func TestFromTextUnnumbered(t *testing.T) {
	text := `LEARNING TO COUNT WIDGETS

ABSTRACT We count widgets with a small network and report the error on three benchmark sets of widgets.

INTRODUCTION

Counting is hard. This paper counts widgets with a network trained on synthetic images.

Our Approach

We use a convolutional network with four layers and a regression head, trained for ten epochs.

Results and Discussion

The error drops by half on every benchmark compared with the previous best method.

Bibliography

Smith, J. (2020). Counting things. Journal of Things, 1, 1–10.

Doe, A. and Roe, B. (2021). More counting. In Proceedings of Counting, pp. 5–9.
`
	p, err := FromText("count", text)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Title, "LEARNING TO COUNT WIDGETS"; got != want {
		t.Errorf("Title = %q, want %q", got, want)
	}
	if !strings.HasPrefix(p.Abstract, "We count widgets") || strings.Contains(p.Abstract, "INTRODUCTION") {
		t.Errorf("Abstract = %q", p.Abstract)
	}
	if got, want := sectionNames(p), []string{"introduction", "method", "results", "references"}; !slices.Equal(got, want) {
		t.Errorf("sections = %q, want %q", got, want)
	}
	if got := len(p.References); got != 2 {
		t.Errorf("%d references, want 2: %q", got, p.References)
	}
}

func TestFromTextMarkdown(t *testing.T) {
	text := "# Sparse Widgets\n\n" +
		"**Authors:** Ann Lee (Widget U), Bo Chen\n\n" +
		"## Abstract\n\nWe make widgets sparse.\nIt helps.\n\n" +
		"## 1 Introduction\n\nSparse is good.\n\n" +
		"```python\n# not a heading\nx = 1\n```\n\n" +
		"### 1.1 Setup\n\nA GPU.\n\n" +
		"## 2 Conclusion\n\nDone.\n\n" +
		"## References\n\n- Lee, A. (2020). Widgets. Widget Journal.\n- Chen, B. (2021). More widgets.\n  A second line.\n"
	p, err := FromText("sparse.md", text)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Title, "Sparse Widgets"; got != want {
		t.Errorf("Title = %q, want %q", got, want)
	}
	if got, want := p.Authors, []string{"Ann Lee", "Bo Chen"}; !slices.Equal(got, want) {
		t.Errorf("Authors = %q, want %q", got, want)
	}
	if got, want := p.Abstract, "We make widgets sparse. It helps."; got != want {
		t.Errorf("Abstract = %q, want %q", got, want)
	}
	if got, want := sectionNames(p), []string{"introduction", "Setup", "conclusion", "references"}; !slices.Equal(got, want) {
		t.Errorf("sections = %q, want %q (a # line in a code block is no heading)", got, want)
	}
	if s := p.Section("Setup"); s == nil || s.Level != 3 || s.Heading != "1.1 Setup" {
		t.Errorf("Setup = %+v", s)
	}
	if got, want := p.References, []string{"Lee, A. (2020). Widgets. Widget Journal.", "Chen, B. (2021). More widgets. A second line."}; !slices.Equal(got, want) {
		t.Errorf("References = %q, want %q", got, want)
	}
}

func TestFromTextEmpty(t *testing.T) {
	for _, text := range []string{"", " \n\t\n"} {
		if _, err := FromText("x", text); !errors.Is(err, ErrEmpty) {
			t.Errorf("FromText(%q) err = %v, want ErrEmpty", text, err)
		}
	}
}

func TestCleanPages(t *testing.T) {
	topics := []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
	var pages []string
	for i, topic := range topics {
		n := i + 1
		var b strings.Builder
		switch {
		case n == 1:
			b.WriteString("  A Short Title\nAnn Lee\n")
		case n%2 == 0:
			fmt.Fprintf(&b, "%d A Short Title\n", n)
		default:
			fmt.Fprintf(&b, "Lee and Chen %d\n", n)
		}
		for k := range 8 {
			fmt.Fprintf(&b, "The %s body line %c.\n", topic, 'a'+k)
			if k == 3 {
				b.WriteString("\n  \n\n")
			}
		}
		fmt.Fprintf(&b, "\n%d\n", n)
		pages = append(pages, b.String())
	}
	lines := cleanPages(pages)
	text := strings.Join(lines, "\n")
	if !strings.HasPrefix(text, "A Short Title\nAnn Lee\nThe alpha body line a.") {
		t.Errorf("the first page's top must stay (it is the title):\n%s", text)
	}
	if n := strings.Count(text, "A Short Title"); n != 1 {
		t.Errorf("running header kept %d times, want once (page 1):\n%s", n, text)
	}
	if strings.Contains(text, "Lee and Chen") {
		t.Errorf("odd-page running header kept:\n%s", text)
	}
	for _, l := range lines {
		if pageNumberRe.MatchString(l) {
			t.Errorf("page number %q kept", l)
		}
	}
	if got, want := strings.Count(text, "body line"), 8*len(topics); got != want {
		t.Errorf("%d body lines kept, want %d", got, want)
	}
	if got, want := strings.Count(text, "\n\n"), 2*len(topics)-1; got != want {
		t.Errorf("%d paragraph breaks, want %d (runs of blanks collapse): %q", got, want, text)
	}
}

func TestSplitReferences(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string
	}{
		{
			"numbered",
			"1. Lee A. Widgets. 2020.\n2. Chen B. Gadgets,\nvolume 2. 2021.\n3. Dee C. Things. 2022.",
			[]string{"1. Lee A. Widgets. 2020.", "2. Chen B. Gadgets, volume 2. 2021.", "3. Dee C. Things. 2022."},
		},
		{
			"author-year lines",
			"Lee A, Chen B (2020). “Widgets.” Journal of Widgets, 1, 1–10. URL http://example.org/\nwidgets.\n" +
				"van der Berg C (2019). Gadgets. Springer.\n" +
				"Belenky G, Wesensten NJ, Thorne DR, Thomas ML, Sing HC, Redmond DP, Russo MB,\n" +
				"Balkin TJ (2003). “Sleep.” Journal of Sleep Research, 12, 1–12.\n" +
				"Smola A, Platt J (2000). “Outputs.” In Advances, A. Smola, P.\nBartlett, B. Schölkopf and D. Schuurmans, Eds. MIT Press.",
			[]string{
				"Lee A, Chen B (2020). “Widgets.” Journal of Widgets, 1, 1–10. URL http://example.org/widgets.",
				"van der Berg C (2019). Gadgets. Springer.",
				"Belenky G, Wesensten NJ, Thorne DR, Thomas ML, Sing HC, Redmond DP, Russo MB, Balkin TJ (2003). “Sleep.” Journal of Sleep Research, 12, 1–12.",
				"Smola A, Platt J (2000). “Outputs.” In Advances, A. Smola, P. Bartlett, B. Schölkopf and D. Schuurmans, Eds. MIT Press.",
			},
		},
		{
			"paragraphs",
			"Lee, A. 2020. Widgets\nand more. Widget Press.\n\nChen, B. 2021. Gadgets. Gadget Press.\n\nTodo: no year here",
			[]string{"Lee, A. 2020. Widgets and more. Widget Press.", "Chen, B. 2021. Gadgets. Gadget Press.", "Todo: no year here"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := splitReferences(strings.Split(tc.text, "\n")); !slices.Equal(got, tc.want) {
				t.Errorf("got %d entries:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(tc.want), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestPersonName(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"David Meyer", true},
		{"Benjamin M. Bolker", true},
		{"Martin Mächler", true},
		{"Christine de Kock", true},
		{"J. Smith", true},
		{"R Enthusiasts", false},
		{"ETH Zurich", false},
		{"McMaster University", false},
		{"Wirtschaftsuniversität Wien", false},
		{"Support Vector Machines", false},
		{"Debian Project", false},
		{"University of Wisconsin-Madison", false},
		{"Smith J.", false},
		{"Madison", false},
	} {
		if got := personName(tc.s); got != tc.want {
			t.Errorf("personName(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestFromTextSmall(t *testing.T) {
	for _, tc := range []struct {
		name, text        string
		title, abstract   string
		authors, sections []string
	}{
		{
			name:     "one paragraph",
			text:     "We propose a method for counting widgets that works on every benchmark we tried, and we report results on five datasets with a new training recipe that is much faster than the previous ones and also more accurate on average across seeds and tasks.\n",
			abstract: "We propose a method for counting widgets that works on every benchmark we tried, and we report results on five datasets with a new training recipe that is much faster than the previous ones and also more accurate on average across seeds and tasks.",
		},
		{
			name:     "markdown, CRLF, no abstract label",
			text:     "# Widget Counting\r\n\r\nWe propose a method for counting widgets that works on every benchmark.\r\nIt is fast.\r\n\r\n## Method\r\n\r\nA network with a long description that goes on for a while.\r\n",
			title:    "Widget Counting",
			abstract: "We propose a method for counting widgets that works on every benchmark. It is fast.",
			sections: []string{"method"},
		},
		{
			name:     "labels",
			text:     "Title: Counting Widgets\nAuthors: Ann Lee and Bo Chen\n\nAbstract: We count widgets with a network and it works well on all five datasets we tried.\n\n1. Introduction\nCounting matters a lot for everybody who owns widgets of any kind.\n",
			title:    "Counting Widgets",
			abstract: "We count widgets with a network and it works well on all five datasets we tried.",
			authors:  []string{"Ann Lee", "Bo Chen"},
			sections: []string{"introduction"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := FromText("x", tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if p.Title != tc.title || p.Abstract != tc.abstract {
				t.Errorf("title, abstract = %q, %q; want %q, %q", p.Title, p.Abstract, tc.title, tc.abstract)
			}
			if !slices.Equal(p.Authors, tc.authors) {
				t.Errorf("Authors = %q, want %q", p.Authors, tc.authors)
			}
			if got := sectionNames(p); !slices.Equal(got, tc.sections) {
				t.Errorf("sections = %q, want %q", got, tc.sections)
			}
		})
	}
}

// A dataset description's abstract label carries a note on where the text
// came from; the note is not the abstract, whether the abstract is quoted,
// a paragraph under the label, or under a note line of its own.
func TestMarkdownAbstractSourceNote(t *testing.T) {
	const want = "We present a dataset of 70,000 grayscale images of fashion products from 10 categories, meant as a drop-in replacement for MNIST."
	for name, text := range map[string]string{
		"styled label, paragraph": "# Widgets\n\n- **Year:** 2017\n\n**Abstract** — source: https://example.org/papers/1708.07747.md (a mirror of the paper's text)\n\n" + want + "\n\n## Facts\n\nBest accuracy 0.9.\n",
		"plain label, paragraph":  "# Widgets\n\nAbstract — source: https://example.org/papers/1708.07747.md\n\n" + want + "\n\n## Facts\n\nBest accuracy 0.9.\n",
		"note line under label":   "# Widgets\n\n## Abstract\n\nsource: https://example.org/papers/1708.07747.md\n\n" + want + "\n\n## Facts\n\nBest accuracy 0.9.\n",
		"quoted":                  "# Widgets\n\n**Abstract** — source: https://example.org/x.md (mirror)\nthe same text appears elsewhere\n\n> " + want + "\n\n## Facts\n\nBest accuracy 0.9.\n",
	} {
		t.Run(name, func(t *testing.T) {
			p, err := FromText("d.md", text)
			if err != nil {
				t.Fatal(err)
			}
			if p.Abstract != want {
				t.Errorf("abstract = %q, want %q", p.Abstract, want)
			}
			if p.Format != FormatText {
				t.Errorf("format = %q, want %q", p.Format, FormatText)
			}
		})
	}
	// An abstract that starts with "From" is no note.
	p, err := FromText("d.md", "# Widgets\n\nAbstract: From 2010 to 2020 the widget count rose tenfold, and we measure why in this paper on many datasets.\n\n## Method\n\nWe count.\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Abstract, "From 2010") {
		t.Errorf("abstract = %q, want the sentence starting with From", p.Abstract)
	}
}
