package opendata

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/civictech/registry/internal/algorithms"
)

// A Hugging Face model card (the README.md of a model repository) is YAML front matter,
// the card's metadata, then Markdown sections. The headings are those of the Hub's template
// (huggingface_hub, templates/modelcard_template.md: "Model Details", "Uses", "Bias, Risks,
// and Limitations", "Training Details", "Evaluation"…) and of the cards the transformers
// Trainer writes ("Model description", "Intended uses & limitations", "Training and
// evaluation data", "Training procedure"…). A card describes a model as its makers see it,
// not the council's use of it: only what a card states about the model itself is imported;
// what the register asks of the council (goal, impact, decisions, oversight) is left for
// the author, and everything not imported is reported.

// cardLang is the language a card's text is taken to be in: the Hub's cards are written in
// English whatever languages the model handles (the front matter's "language").
const cardLang = "en"

// cardTargets map a normalised section heading to the field that takes its text. A
// subsection with no entry of its own goes with its parent.
var cardTargets = map[string]string{
	"model description":                "description",
	"model summary":                    "description",
	"training data":                    "training_data",
	"training dataset":                 "training_data",
	"training and evaluation data":     "training_data",
	"training procedure":               "methods_and_models",
	"training hyperparameters":         "methods_and_models",
	"preprocessing":                    "methods_and_models",
	"technical specifications":         "methods_and_models",
	"model architecture and objective": "methods_and_models",
	"evaluation":                       "performance",
	"evaluation results":               "performance",
	"results":                          "performance",
	"training results":                 "performance",
	"testing data, factors & metrics":  "performance",
	"bias, risks, and limitations":     "risks",
	"bias, risks and limitations":      "risks",
	"risks and limitations":            "risks",
	"limitations and bias":             "risks",
	"limitations":                      "risks",
	"bias":                             "data_bias",
}

// reasonUse is why the card's "uses" sections are not imported.
const reasonUse = "the model makers' intended use; the goal and impact are the council's own use: write them in the workspace"

// cardSkips are the known sections that are not imported, with the reason; a subsection
// with no entry of its own goes with its parent. Any other section is reported as unmapped.
var cardSkips = map[string]string{
	"uses":                              reasonUse,
	"direct use":                        reasonUse,
	"downstream use":                    reasonUse,
	"out-of-scope use":                  reasonUse,
	"intended uses & limitations":       reasonUse,
	"intended uses and limitations":     reasonUse,
	"intended use":                      reasonUse,
	"intended uses":                     reasonUse,
	"how to get started with the model": "code for developers, not part of a fact sheet",
	"how to use":                        "code for developers, not part of a fact sheet",
}

// cardSkipKeys are front-matter keys that are understood but not imported.
var cardSkipKeys = map[string]string{
	"language": "the languages the model handles: the register has no field for them; mention them in the description",
	"metrics":  "metric names without results: the results are in model-index or the Evaluation section",
}

// cardImport collects a card's text per field, in the order the card gives it.
type cardImport struct {
	d       *Draft
	name    string
	parts   map[string][]cardPart
	results bool // model-index had results
}

type cardPart struct{ title, body string }

func (c *cardImport) add(field, title, body string) {
	if body = strings.TrimSpace(body); body != "" {
		c.parts[field] = append(c.parts[field], cardPart{title, body})
	}
}

func (c *cardImport) skip(field, reason string) {
	c.d.Skipped = append(c.d.Skipped, Skipped{field, reason})
}

// isModelCard reports a file that opens with YAML front matter.
func isModelCard(body []byte) bool {
	return bytes.HasPrefix(body, []byte("---\n")) || bytes.HasPrefix(body, []byte("---\r\n"))
}

// parseModelCard maps a model card onto a draft in English.
func parseModelCard(body []byte) (*Draft, error) {
	front, markdown, err := splitFrontMatter(string(body))
	if err != nil {
		return nil, err
	}
	var meta map[string]any
	if err := yaml.Unmarshal([]byte(front), &meta); err != nil {
		return nil, fmt.Errorf("model card front matter: %w", err)
	}
	c := &cardImport{d: &Draft{Source: "model card"}, parts: map[string][]cardPart{}}
	c.d.Sheet.Lang = cardLang
	c.d.Notes = append(c.d.Notes, Skipped{"lang", "the card was read as English text: change the language in the workspace if it is not"})
	c.metadata(meta)
	title := c.sections(markdown)
	if c.name == "" {
		c.name = strings.TrimSpace(strings.TrimPrefix(title, "Model Card for "))
	}
	if c.name == "" {
		return nil, fmt.Errorf("the model card names no model: give model_name or a model-index name in the front matter, or a # title")
	}
	s := &c.d.Sheet
	s.Name = text(cardLang, c.name)
	for _, field := range sortedKeys(c.parts) {
		sheetFields[field].value(s).Set(reflect.ValueOf(text(cardLang, joinParts(c.parts[field]))))
	}
	return c.d, nil
}

// splitFrontMatter returns the YAML between the opening --- and the next line of --- (or
// ...), and the Markdown after it.
func splitFrontMatter(body string) (string, string, error) {
	lines := strings.SplitAfter(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	for i := 1; i < len(lines); i++ {
		if l := strings.TrimRight(lines[i], " \t\n"); l == "---" || l == "..." {
			return strings.Join(lines[1:i], ""), strings.Join(lines[i+1:], ""), nil
		}
	}
	return "", "", fmt.Errorf("model card front matter: no closing --- line")
}

// metadata maps the front matter's keys.
func (c *cardImport) metadata(meta map[string]any) {
	s := &c.d.Sheet
	var licence, facts []string
	if v, ok := meta["model-index"]; ok {
		c.modelIndex(v) // first: it says whether "metrics" has results behind it
	}
	for _, key := range sortedKeys(meta) {
		v := meta[key]
		switch key {
		case "model-index":
		case "model_name":
			c.name = scalar(v)
		case "license", "license_name", "license_link":
			licence = append(licence, scalar(v))
		case "datasets":
			for _, name := range list(v) {
				s.DataSources = append(s.DataSources, algorithms.DataSource{Name: text(cardLang, name)})
			}
		case "tags":
			s.Keywords = append(s.Keywords, list(v)...)
		case "pipeline_tag":
			// Any model on the Hub learnt from data; what its output does for the council
			// (describe, diagnose, predict, prescribe) the card cannot say.
			s.AlgorithmType = "self-learning"
			c.d.Notes = append(c.d.Notes, Skipped{key, fmt.Sprintf("%s: algorithm_type set to self-learning; "+
				"the type (descriptive, diagnostic, predictive or prescriptive) depends on how the council uses the output: choose it", scalar(v))})
		case "base_model":
			facts = append(facts, "- Base model: "+strings.Join(list(v), ", "))
		case "library_name":
			facts = append(facts, "- Library: "+scalar(v))
		default:
			if reason, ok := cardSkipKeys[key]; ok {
				if key != "metrics" || !c.results {
					c.skip(key, reason)
				}
				continue
			}
			c.skip(key, "unknown model card metadata: no fact-sheet field for it")
		}
	}
	if len(licence) > 0 {
		s.Remark = text(cardLang, "Licence of the model: "+strings.Join(licence, ", ")+".")
	}
	c.add("methods_and_models", "", strings.Join(facts, "\n"))
}

// modelIndex takes the model's name and its evaluation results, as a Markdown table.
func (c *cardImport) modelIndex(v any) {
	models, ok := v.([]any)
	if !ok {
		c.skip("model-index", "not in the Hub's form (a list of {name, results})")
		return
	}
	rows := []string{"| Task | Dataset | Split | Metric | Value |", "|---|---|---|---|---|"}
	for _, m := range models {
		model, _ := m.(map[string]any)
		if name := scalar(model["name"]); c.name == "" {
			c.name = name
		}
		results, _ := model["results"].([]any)
		for _, r := range results {
			result, _ := r.(map[string]any)
			task, _ := result["task"].(map[string]any)
			dataset, _ := result["dataset"].(map[string]any)
			metrics, _ := result["metrics"].([]any)
			for _, x := range metrics {
				metric, _ := x.(map[string]any)
				rows = append(rows, "| "+strings.Join([]string{
					cell(first(task["name"], task["type"])), cell(first(dataset["name"], dataset["type"])), cell(scalar(dataset["split"])),
					cell(first(metric["name"], metric["type"])), cell(scalar(metric["value"])),
				}, " | ")+" |")
			}
		}
	}
	if len(rows) > 2 {
		c.results = true
		c.add("performance", "", strings.Join(rows, "\n"))
	}
}

// sections maps the Markdown sections and returns the card's # title.
func (c *cardImport) sections(markdown string) string {
	title, preamble, sections := splitSections(markdown)
	c.add("description", "", preamble)
	type open struct {
		level  int
		field  string // where the section's text goes, or ""
		reason string // why it is not imported, or ""
	}
	var stack []open
	for _, sec := range sections {
		for len(stack) > 0 && stack[len(stack)-1].level >= sec.level {
			stack = stack[:len(stack)-1]
		}
		cur := open{level: sec.level}
		key := normaliseHeading(sec.title)
		switch field, reason := cardTargets[key], cardSkips[key]; {
		case field != "":
			cur.field = field
		case reason != "":
			cur.reason = reason
		case len(stack) > 0:
			cur.field, cur.reason = stack[len(stack)-1].field, stack[len(stack)-1].reason
		}
		heading := strings.Repeat("#", sec.level) + " " + sec.title
		switch {
		case sec.body == "":
		case cur.field != "":
			c.add(cur.field, sec.title, sec.body)
		case cur.reason != "":
			c.skip(heading, cur.reason)
		default:
			c.skip(heading, "no fact-sheet field for this section")
		}
		stack = append(stack, cur)
	}
	return title
}

type cardSection struct {
	level       int
	title, body string
}

var (
	headingPattern = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	commentPattern = regexp.MustCompile(`(?s)<!--.*?-->`)
)

// splitSections cuts Markdown at its ATX headings (not those in fenced code), without HTML
// comments and the template's "[More Information Needed]" placeholders. The first # heading
// before any other is the card's title; the text before the first section is the preamble.
func splitSections(markdown string) (title, preamble string, sections []cardSection) {
	var body []string
	flush := func() {
		text := placeholderless(body)
		if len(sections) == 0 {
			preamble = text
		} else {
			sections[len(sections)-1].body = text
		}
		body = nil
	}
	fence := ""
	for _, line := range strings.Split(commentPattern.ReplaceAllString(markdown, ""), "\n") {
		trimmed := strings.TrimSpace(line)
		if fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")) {
			fence = trimmed[:3]
		} else if fence != "" && strings.HasPrefix(trimmed, fence) {
			fence = ""
		} else if m := headingPattern.FindStringSubmatch(line); m != nil && fence == "" {
			if len(m[1]) == 1 && title == "" && len(sections) == 0 {
				title = m[2]
				continue
			}
			flush()
			sections = append(sections, cardSection{level: len(m[1]), title: m[2]})
			continue
		}
		body = append(body, line)
	}
	flush()
	return title, preamble, sections
}

// placeholderless joins lines, leaving out the template's placeholders.
func placeholderless(lines []string) string {
	var kept []string
	for _, l := range lines {
		if !strings.Contains(l, "[More Information Needed]") {
			kept = append(kept, l)
		}
	}
	text := strings.TrimSpace(strings.Join(kept, "\n"))
	if strings.EqualFold(text, "More information needed") || strings.EqualFold(text, "More information needed.") {
		return ""
	}
	return text
}

// normaliseHeading makes headings comparable: lower case, without "[optional]", a trailing
// colon or repeated spaces.
func normaliseHeading(h string) string {
	h = strings.ToLower(strings.ReplaceAll(h, "[optional]", ""))
	return strings.Join(strings.Fields(strings.TrimRight(strings.TrimSpace(h), ":")), " ")
}

// joinParts writes a field's text: the first part as it is, every other part under its
// heading (without the template's "[optional]").
func joinParts(parts []cardPart) string {
	var out []string
	for i, p := range parts {
		title := strings.TrimSpace(strings.ReplaceAll(p.title, "[optional]", ""))
		if i == 0 || title == "" {
			out = append(out, p.body)
			continue
		}
		out = append(out, "### "+title+"\n\n"+p.body)
	}
	return strings.Join(out, "\n\n")
}

// scalar formats a YAML scalar; anything else is "".
func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int, bool:
		return fmt.Sprint(v)
	}
	return ""
}

// list reads a YAML value that is one string or a list of them.
func list(v any) []string {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	var out []string
	for _, x := range items {
		if s := scalar(x); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func first(values ...any) string {
	for _, v := range values {
		if s := scalar(v); s != "" {
			return s
		}
	}
	return ""
}

// cell escapes a value for a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}
