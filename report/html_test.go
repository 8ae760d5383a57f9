package report

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// walk calls fn for every element of the document.
func walk(n *html.Node, fn func(*html.Node)) {
	if n.Type == html.ElementNode {
		fn(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

// text returns the text inside n.
func text(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(text(c))
	}
	return b.String()
}

// loads lists what in page could load or run anything.
func loads(t *testing.T, page string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	walk(doc, func(n *html.Node) {
		switch n.Data {
		case "script", "link", "img", "iframe", "object", "embed", "image", "use", "foreignObject", "base", "audio", "video", "source":
			bad = append(bad, "<"+n.Data+">")
		case "style":
			if css := strings.ToLower(n.FirstChild.Data); strings.Contains(css, "url(") || strings.Contains(css, "@import") || strings.Contains(css, "@font-face") {
				bad = append(bad, "<style> loads")
			}
		}
		for _, a := range n.Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			switch {
			case a.Key == "href" && n.Data == "a" && localFile(a.Val):
				// A link to a file in the run directory (a run's output),
				// followed only when clicked.
			case a.Key == "src", a.Key == "href", a.Key == "srcset", a.Key == "action", a.Key == "poster", a.Key == "data":
				bad = append(bad, a.Key+"="+a.Val)
			case strings.HasPrefix(a.Key, "on"):
				bad = append(bad, a.Key)
			case a.Key == "style" && strings.Contains(v, "url("):
				bad = append(bad, "style="+a.Val)
			}
			if strings.HasPrefix(v, "http:") || strings.HasPrefix(v, "https:") || strings.HasPrefix(v, "//") {
				if a.Key != "xmlns" && a.Key != "xmlns:xlink" && a.Namespace != "xmlns" {
					bad = append(bad, a.Key+"="+a.Val)
				}
			}
		}
	})
	return bad
}

func TestHTMLSelfContained(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, err := HTML(c.data())
			if err != nil {
				t.Fatal(err)
			}
			if bad := loads(t, page); len(bad) > 0 {
				t.Errorf("the page loads or runs: %q", bad)
			}
		})
	}
}

func TestHTMLInlinePlots(t *testing.T) {
	for _, c := range []struct {
		name string
		data *Data
		svgs int
	}{
		{"example", example(), 2},
		{"empty", empty(), 0},
	} {
		page, err := HTML(c.data)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(strings.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		svgs := 0
		walk(doc, func(n *html.Node) {
			if n.Data == "svg" {
				svgs++
				if p := n.Parent; p == nil || p.Data != "figure" {
					t.Errorf("%s: an <svg> outside a <figure>", c.name)
				}
			}
		})
		if svgs != c.svgs {
			t.Errorf("%s: got %d inline <svg>, want %d", c.name, svgs, c.svgs)
		}
		if strings.Contains(page, "<?xml") {
			t.Errorf("%s: an XML prolog inside the HTML", c.name)
		}
	}
}

func TestHTMLEscapes(t *testing.T) {
	page, err := HTML(hostile())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var pre []string
	walk(doc, func(n *html.Node) {
		switch n.Data {
		case "script", "img", "tspan":
			t.Errorf("an injected <%s> element", n.Data)
		case "pre":
			pre = append(pre, text(n))
		}
	})
	for i, want := range []string{
		"+<script>alert(1)</script> ```",         // the diff, as text
		"echo '</pre><script>alert(1)</script>'", // the command, as text
	} {
		if i >= len(pre) || !strings.Contains(pre[i], want) {
			t.Errorf("<pre> %d: got %q, want the text %q", i, pre, want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Errorf("the page has a raw <script>")
	}
}

func TestHTMLVerdict(t *testing.T) {
	for _, c := range []struct {
		name    string
		data    *Data
		class   string
		heading string
	}{
		{"success", example(), "verdict success", "Success"},
		{"failure", failed(), "verdict failure", "Not a success"},
		{"not validated", empty(), "verdict none", "Not validated"},
	} {
		page, err := HTML(c.data)
		if err != nil {
			t.Fatal(err)
		}
		want := `<section class="` + c.class + `">` + "\n<h2>" + c.heading + "</h2>"
		if !strings.Contains(page, want) {
			t.Errorf("%s: the page lacks %q", c.name, want)
		}
		if i, j := strings.Index(page, want), strings.Index(page, "<h2>Papers</h2>"); i > j {
			t.Errorf("%s: the verdict is not at the top", c.name)
		}
	}
}
