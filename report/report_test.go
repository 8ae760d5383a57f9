package report

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	update = flag.Bool("update", false, "rewrite the golden files in testdata")
	out    = flag.String("out", "", "TestWriteExample writes the example report into this directory")
)

var cases = []struct {
	name string
	data func() *Data
}{
	{"example", example},
	{"failed", failed},
	{"empty", empty},
	{"hostile", hostile},
}

func TestMarkdownGolden(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Markdown(c.data())
			path := filepath.Join("testdata", c.name+".md")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./report -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Markdown differs from %s (go test ./report -update rewrites it):\n%s", path, got)
			}
		})
	}
}

func TestMarkdownLinksPlots(t *testing.T) {
	for _, c := range []struct {
		name         string
		data         *Data
		metric, seed bool
	}{
		{"example", example(), true, true},
		{"empty", empty(), false, false},
	} {
		md := Markdown(c.data)
		if got := strings.Contains(md, "("+MetricPlotFile+")"); got != c.metric {
			t.Errorf("%s: links %s: got %v, want %v", c.name, MetricPlotFile, got, c.metric)
		}
		if got := strings.Contains(md, "("+SeedPlotFile+")"); got != c.seed {
			t.Errorf("%s: links %s: got %v, want %v", c.name, SeedPlotFile, got, c.seed)
		}
	}
}

func TestMarkdownEscapes(t *testing.T) {
	md := Markdown(hostile())
	// Outside the fenced diff and command, no tag, image or link acts.
	var prose []string
	fence := ""
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "```") {
			if fence == "" {
				fence = strings.TrimRight(l, "abcdefghijklmnopqrstuvwxyz")
			} else if l == fence {
				fence = ""
			}
			continue
		}
		if fence == "" {
			prose = append(prose, l)
		}
	}
	text := strings.Join(prose, "\n")
	// The hostile text's tags, images and links are all escaped.
	if bad := regexp.MustCompile(`(^|[^\\])(<script|<img|\]\(http|!\[p)`).FindAllString(text, -1); len(bad) > 0 {
		t.Errorf("Markdown prose has unescaped markup: %q", bad)
	}
	if !strings.Contains(text, `\<script\>alert(1)\</script\>`) {
		t.Errorf("Markdown prose lacks the escaped script")
	}
	if !strings.Contains(md, "````diff\n") {
		t.Errorf("a diff with ``` in it wants a longer fence")
	}
}

// TestWriteExample writes the example report into -out (a temporary
// directory by default) and the other cases into subdirectories of it, to
// look at: go test ./report -run TestWriteExample -args -out /tmp/report-example
func TestWriteExample(t *testing.T) {
	dir := *out
	if dir == "" {
		dir = t.TempDir()
	}
	for _, c := range cases {
		sub := dir
		if c.name != "example" {
			sub = filepath.Join(dir, c.name)
		}
		if err := Write(sub, c.data()); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"report.md", "report.html", MetricPlotFile, SeedPlotFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	t.Logf("wrote %s", dir)
}

func TestWriteRemovesStalePlots(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, example()); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, empty()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{MetricPlotFile, SeedPlotFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s: got %v, want it removed", f, err)
		}
	}
	for _, f := range []string{"report.md", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{tokens(0), "0"},
		{tokens(999), "999"},
		{tokens(1000), "1,000"},
		{tokens(312004), "312,004"},
		{tokens(-1234567), "-1,234,567"},
		{pValue(0.0004), "< 0.001"},
		{pValue(0.0312), "0.031"},
		{cost(1.5, 0), "$1.5000"},
		{cost(0, 2), "$0.0000 + 2 calls, price unknown"},
		{mdInline("a | b\n[x](y)"), `a \| b \[x\](y)`},
		{mdCode("a`b"), "``a`b``"},
		{fenced("x\n```\n", "diff"), "````diff\nx\n```\n````\n"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
