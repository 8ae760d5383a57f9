package report

import (
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The plan is text from a model (an idea's plan, or a file given with
// --plan, perhaps JSON). It is shown as structured Markdown: its headings,
// lists and labelled paragraphs are kept, and everything inside them is
// escaped as any other model text is, so the plan cannot add links,
// images or HTML to the report. A JSON plan is turned into the same
// blocks: a field is a labelled paragraph, a list a bulleted list, an
// object a subheading.

// planBlock is one block of a plan.
type planBlock struct {
	Kind  string // "h" (heading), "ul", "ol" (list items), "p" (paragraph)
	Level int    // a heading's level within the plan, 1 for the top
	N     int    // an "ol" item's number
	Label string // a paragraph's label ("Hypothesis"), if it has one
	Text  string
}

var (
	planHeadingRe = regexp.MustCompile(`^(#{1,6})\s+(.+?)\s*#*$`)
	planBulletRe  = regexp.MustCompile(`^\s*[-*+•]\s+(.+)$`)
	planNumberRe  = regexp.MustCompile(`^\s*(\d{1,3})[.)]\s+(.+)$`)
	planLabelRe   = regexp.MustCompile(`^\*{0,2}([A-Z][A-Za-z /-]{1,40}?)\*{0,2}:\*{0,2}\s+(.+)$`)
)

// parsePlan splits a plan into blocks: JSON when it is a JSON object,
// else Markdown or plain text.
func parsePlan(s string) []planBlock {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if strings.HasPrefix(s, "{") {
		var v map[string]any
		if json.Unmarshal([]byte(s), &v) == nil {
			return jsonBlocks(v, 1)
		}
	}
	var blocks []planBlock
	var para []string
	flush := func() {
		if len(para) == 0 {
			return
		}
		text := strings.Join(para, " ")
		b := planBlock{Kind: "p", Text: text}
		if m := planLabelRe.FindStringSubmatch(text); m != nil {
			b.Label, b.Text = m[1], m[2]
		}
		blocks = append(blocks, b)
		para = nil
	}
	for _, l := range strings.Split(s, "\n") {
		t := strings.TrimSpace(l)
		h, ul, ol := planHeadingRe.FindStringSubmatch(t), planBulletRe.FindStringSubmatch(l), planNumberRe.FindStringSubmatch(l)
		switch {
		case t == "":
			flush()
		case h != nil:
			flush()
			blocks = append(blocks, planBlock{Kind: "h", Level: len(h[1]), Text: h[2]})
		case ul != nil:
			flush()
			blocks = append(blocks, planBlock{Kind: "ul", Text: ul[1]})
		case ol != nil:
			flush()
			n, _ := strconv.Atoi(ol[1])
			blocks = append(blocks, planBlock{Kind: "ol", N: n, Text: ol[2]})
		case len(para) == 0 && len(blocks) > 0 && (blocks[len(blocks)-1].Kind == "ul" || blocks[len(blocks)-1].Kind == "ol") && strings.HasPrefix(l, " "):
			// An indented line continues the list item above.
			blocks[len(blocks)-1].Text += " " + t
		default:
			para = append(para, t)
		}
	}
	flush()
	return blocks
}

// planKeyOrder puts an idea's fields in reading order; other keys follow
// alphabetically.
var planKeyOrder = []string{"title", "name", "goal", "problem", "hypothesis", "rationale", "method", "approach",
	"experiment_plan", "plan", "steps", "datasets", "models", "baselines", "metrics", "ablations", "success_criterion", "compute_estimate"}

func jsonBlocks(v map[string]any, level int) []planBlock {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index(planKeyOrder, strings.ToLower(k)); i >= 0 {
			return i
		}
		return len(planKeyOrder)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	var blocks []planBlock
	for _, k := range keys {
		label := humanKey(k)
		switch x := v[k].(type) {
		case map[string]any:
			blocks = append(blocks, planBlock{Kind: "h", Level: level, Text: label})
			blocks = append(blocks, jsonBlocks(x, level+1)...)
		case []any:
			blocks = append(blocks, planBlock{Kind: "p", Label: label, Text: fmt.Sprintf("%d item(s)", len(x))})
			for _, it := range x {
				blocks = append(blocks, planBlock{Kind: "ul", Text: jsonText(it)})
			}
		case nil:
		default:
			if (k == "title" || k == "name") && level == 1 {
				blocks = append(blocks, planBlock{Kind: "h", Level: 1, Text: jsonText(x)})
				continue
			}
			blocks = append(blocks, planBlock{Kind: "p", Label: label, Text: jsonText(x)})
		}
	}
	return blocks
}

// jsonText is a JSON value as one line of text.
func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case map[string]any:
		var parts []string
		for _, b := range jsonBlocks(x, 1) {
			if b.Label != "" {
				parts = append(parts, b.Label+": "+b.Text)
			} else {
				parts = append(parts, b.Text)
			}
		}
		return strings.Join(parts, "; ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// humanKey turns "success_criterion" into "Success criterion".
func humanKey(k string) string {
	k = strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ").Replace(k))
	if k == "" {
		return k
	}
	return strings.ToUpper(k[:1]) + k[1:]
}

// mdPlanText renders a plan's blocks as Markdown under a "## Plan"
// heading: its headings become level 3 and below.
func mdPlanText(s string) string {
	var b strings.Builder
	prev := ""
	for _, bl := range parsePlan(s) {
		if prev != "" && (bl.Kind != prev || bl.Kind == "p" || bl.Kind == "h") {
			b.WriteString("\n")
		}
		text := mdInline(bl.Text)
		if strings.HasPrefix(text, "#") {
			text = `\` + text
		}
		switch bl.Kind {
		case "h":
			fmt.Fprintf(&b, "%s %s\n", strings.Repeat("#", min(6, bl.Level+2)), text)
		case "ul":
			fmt.Fprintf(&b, "- %s\n", text)
		case "ol":
			fmt.Fprintf(&b, "%d. %s\n", bl.N, text)
		default:
			if bl.Label != "" {
				fmt.Fprintf(&b, "**%s:** ", mdInline(bl.Label))
			}
			b.WriteString(text + "\n")
		}
		prev = bl.Kind
	}
	return b.String()
}

// htmlPlan renders a plan's blocks as HTML, every text escaped.
func htmlPlan(s string) template.HTML {
	var b strings.Builder
	open := ""
	closeList := func() {
		if open != "" {
			fmt.Fprintf(&b, "</%s>\n", open)
			open = ""
		}
	}
	for _, bl := range parsePlan(s) {
		text := html.EscapeString(bl.Text)
		switch bl.Kind {
		case "h":
			closeList()
			fmt.Fprintf(&b, "<h%d>%s</h%d>\n", min(6, bl.Level+2), text, min(6, bl.Level+2))
		case "ul", "ol":
			if open != bl.Kind {
				closeList()
				open = bl.Kind
				if bl.Kind == "ol" && bl.N > 1 {
					fmt.Fprintf(&b, "<ol start=\"%d\">\n", bl.N)
				} else {
					fmt.Fprintf(&b, "<%s>\n", bl.Kind)
				}
			}
			fmt.Fprintf(&b, "<li>%s</li>\n", text)
		default:
			closeList()
			if bl.Label != "" {
				fmt.Fprintf(&b, "<p><strong>%s:</strong> %s</p>\n", html.EscapeString(bl.Label), text)
			} else {
				fmt.Fprintf(&b, "<p>%s</p>\n", text)
			}
		}
	}
	closeList()
	return template.HTML(b.String())
}
