package risk

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/civictech/registry/internal/i18n"
)

// DefinitionError lists every rule a set of definitions breaks, each problem naming the
// version and the question (and choice) at fault, so a council editing a data file can fix
// them all in one go.
type DefinitionError struct {
	Problems []string
}

func (e *DefinitionError) Error() string {
	return "risk: invalid definitions: " + strings.Join(e.Problems, "; ")
}

// idPattern keeps ids usable as form field names and JSON keys.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

// Validate checks the definitions: versions set; every section non-empty; ids well formed
// and unique across both question sets (choice ids unique within their question); every
// question's and choice's text in Catalan, Spanish and English, and its help in all three
// or none; checklist questions with a legal reference and no choices; impact questions in
// the impact or mitigation group with at least two choices worth zero or more points; a
// maximum impact score above zero. It returns a *DefinitionError listing every problem.
func (d *Definitions) Validate() error {
	v := validator{seen: map[string]string{}}
	c := d.Checklist
	cv := label(c.Version, "checklist")
	if c.Version == "" {
		v.add("checklist: version is missing")
	}
	for _, s := range []struct {
		qs    []Question
		group string
	}{{c.Prohibited, GroupProhibited}, {c.High, GroupHigh}, {c.Transparency, GroupTransparency}} {
		if len(s.qs) == 0 {
			v.add("%s: section %q has no questions", cv, s.group)
		}
		for _, q := range s.qs {
			v.checklistQuestion(cv, q, s.group)
		}
	}
	v.checklistQuestion(cv, c.Exception, GroupException)

	iv := label(d.Impact.Version, "impact questionnaire")
	if d.Impact.Version == "" {
		v.add("impact questionnaire: version is missing")
	}
	maxImpact := 0
	for _, q := range d.Impact.Questions {
		v.impactQuestion(iv, q)
		if q.Group == GroupImpact {
			maxImpact += q.maxPoints()
		}
	}
	if maxImpact <= 0 {
		v.add("%s: the maximum impact score is 0; at least one impact question must be worth points", iv)
	}
	if len(v.problems) > 0 {
		return &DefinitionError{Problems: v.problems}
	}
	return nil
}

func label(version, fallback string) string {
	if version == "" {
		return fallback
	}
	return version
}

type validator struct {
	problems []string
	seen     map[string]string // question id → where it was first defined
}

func (v *validator) add(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

// id checks a question id and records it; where names the question for messages.
func (v *validator) id(version string, q Question) (where string) {
	where = fmt.Sprintf("%s: question %q", version, q.ID)
	switch {
	case q.ID == "":
		where = fmt.Sprintf("%s: question with text %q", version, q.Text.In(string(i18n.English)))
		v.add("%s: id is missing", where)
	case !idPattern.MatchString(q.ID):
		v.add("%s: id must be lower-case letters, digits and underscores", where)
	case v.seen[q.ID] != "":
		v.add("%s: duplicate id (also in %s)", where, v.seen[q.ID])
	default:
		v.seen[q.ID] = version
	}
	return where
}

func (v *validator) checklistQuestion(version string, q Question, group string) {
	where := v.id(version, q)
	if q.Group != group {
		v.add("%s: group is %q, want %q", where, q.Group, group)
	}
	if strings.TrimSpace(q.LegalRef) == "" {
		v.add("%s: legal_ref is missing", where)
	}
	if len(q.Choices) > 0 {
		v.add("%s: a checklist question is answered yes or no and takes no choices", where)
	}
	v.texts(where, q)
}

func (v *validator) impactQuestion(version string, q Question) {
	where := v.id(version, q)
	if q.Group != GroupImpact && q.Group != GroupMitigation {
		v.add("%s: group is %q, want %q or %q", where, q.Group, GroupImpact, GroupMitigation)
	}
	v.texts(where, q)
	if len(q.Choices) < 2 {
		v.add("%s: has %d choices, needs at least 2", where, len(q.Choices))
	}
	var ids []string
	for i, c := range q.Choices {
		cw := fmt.Sprintf("%s choice %q", where, c.ID)
		switch {
		case c.ID == "":
			cw = fmt.Sprintf("%s choice %d", where, i+1)
			v.add("%s: id is missing", cw)
		case !idPattern.MatchString(c.ID):
			v.add("%s: id must be lower-case letters, digits and underscores", cw)
		case slices.Contains(ids, c.ID):
			v.add("%s: duplicate choice id", cw)
		}
		ids = append(ids, c.ID)
		if c.Points < 0 {
			v.add("%s: points are %d, must be 0 or more", cw, c.Points)
		}
		v.text(cw+" text", c.Text, true)
	}
}

func (v *validator) texts(where string, q Question) {
	v.text(where+" text", q.Text, true)
	v.text(where+" help", q.Help, false)
}

// text checks that t has every language, non-blank, and no other key. An optional text may
// instead be absent altogether.
func (v *validator) text(where string, t Text, required bool) {
	if len(t) == 0 && !required {
		return
	}
	for _, l := range i18n.Langs {
		if strings.TrimSpace(t[string(l)]) == "" {
			v.add("%s: missing %q", where, l)
		}
	}
	var extra []string
	for k := range t {
		if _, ok := i18n.Parse(k); !ok {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		v.add("%s: unknown language %q", where, k)
	}
}
