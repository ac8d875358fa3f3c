// Package risk scores the risk assessment of an algorithm revision: the EU AI Act tier from
// a checklist, the impact level I–IV from an impact questionnaire in the style of Canada's
// Algorithmic Impact Assessment, and from both the review route a revision must follow.
//
// The questions live in versioned data files embedded from data/, so a council adapts them
// without code changes; an assessment (Answers) records the versions it answered. The
// package does no I/O beyond reading its embedded files and keeps no mutable state.
package risk

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/civictech/registry/internal/i18n"
)

// The EU AI Act tiers, spelled as the Eurocities standard's risk_category.
const (
	Minimal      = "minimal risk"
	Limited      = "limited risk"
	High         = "high risk"
	Unacceptable = "unacceptable"
)

// Tiers lists the tiers from least to most severe.
var Tiers = []string{Minimal, Limited, High, Unacceptable}

// Question groups. A checklist question's group is the section it sits in.
const (
	GroupProhibited   = "prohibited"   // Article 5: a yes makes the system unacceptable
	GroupHigh         = "high"         // Annex III: a yes makes it high risk
	GroupTransparency = "transparency" // Article 50: a yes makes it limited risk
	GroupException    = "exception"    // Article 6(3): answered by Answers.Exception63
	GroupImpact       = "impact"       // impact questionnaire: impact points
	GroupMitigation   = "mitigation"   // impact questionnaire: mitigation points
)

// Text is a language map: ISO 639-1 code ("ca", "es", "en") → text.
type Text map[string]string

// In returns the text in lang, falling back to Catalan, then English. Shipped definitions
// always carry all three languages; the fallback only guards hand-made ones.
func (t Text) In(lang string) string {
	for _, l := range []string{lang, string(i18n.Catalan), string(i18n.English)} {
		if s := t[l]; s != "" {
			return s
		}
	}
	return ""
}

// Question is one question of the checklist (answered yes or no, no Choices) or of the
// impact questionnaire (answered with exactly one of its Choices). ID is stable: answers are
// stored against it.
type Question struct {
	ID       string   `json:"id"`
	Group    string   `json:"group,omitempty"`
	LegalRef string   `json:"legal_ref,omitempty"`
	Text     Text     `json:"text"`
	Help     Text     `json:"help,omitempty"`
	Choices  []Choice `json:"choices,omitempty"`
}

// Choice is one answer to an impact question, worth Points impact or mitigation points
// according to the question's group.
type Choice struct {
	ID     string `json:"id"`
	Text   Text   `json:"text"`
	Points int    `json:"points"`
}

// maxPoints returns the most points any of q's choices is worth.
func (q Question) maxPoints() int {
	m := 0
	for _, c := range q.Choices {
		m = max(m, c.Points)
	}
	return m
}

// Checklist is the EU AI Act checklist. Exception describes the Article 6(3) exception for
// the form; it is not part of the tier questions.
type Checklist struct {
	Version      string     `json:"version"`
	Prohibited   []Question `json:"prohibited"`
	High         []Question `json:"high"`
	Transparency []Question `json:"transparency"`
	Exception    Question   `json:"exception"`
}

// Questions returns the tier questions in form order: prohibited, high, transparency.
func (c Checklist) Questions() []Question {
	qs := make([]Question, 0, len(c.Prohibited)+len(c.High)+len(c.Transparency))
	qs = append(qs, c.Prohibited...)
	qs = append(qs, c.High...)
	return append(qs, c.Transparency...)
}

// Questionnaire is the impact questionnaire: impact and mitigation questions in form order.
type Questionnaire struct {
	Version   string     `json:"version"`
	Questions []Question `json:"questions"`
}

// Definitions are the question sets an assessment is answered and scored against.
type Definitions struct {
	Checklist Checklist
	Impact    Questionnaire
}

// The shipped definitions. A council's change is a new file with a new version string,
// named here; answers recorded against the old version are then reported by Assess as a
// VersionMismatch, so the author reviews them.
const (
	checklistFile = "data/eu-ai-act-v1.json"
	impactFile    = "data/impact-v1.json"
)

var (
	//go:embed data/eu-ai-act-v1.json
	checklistJSON []byte
	//go:embed data/impact-v1.json
	impactJSON []byte
)

var load = sync.OnceValues(func() (*Definitions, error) {
	return parse(checklistJSON, impactJSON)
})

// Load returns the embedded definitions, parsed and validated on the first call. The result
// is shared: callers must not modify it. An error (a *DefinitionError when the files parse
// but break a rule) means the shipped data files are broken, and the program should not start.
func Load() (*Definitions, error) { return load() }

// parse decodes the two data files strictly (an unknown field is a typo, not an extension),
// fills in the checklist questions' groups from their sections and validates the result.
func parse(checklist, impact []byte) (*Definitions, error) {
	d := &Definitions{}
	if err := decodeStrict(checklist, &d.Checklist); err != nil {
		return nil, fmt.Errorf("risk: %s: %w", checklistFile, err)
	}
	if err := decodeStrict(impact, &d.Impact); err != nil {
		return nil, fmt.Errorf("risk: %s: %w", impactFile, err)
	}
	c := &d.Checklist
	for _, s := range []struct {
		qs    []Question
		group string
	}{{c.Prohibited, GroupProhibited}, {c.High, GroupHigh}, {c.Transparency, GroupTransparency}} {
		for i := range s.qs {
			if s.qs[i].Group == "" {
				s.qs[i].Group = s.group
			}
		}
	}
	if c.Exception.Group == "" {
		c.Exception.Group = GroupException
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the top-level object")
	}
	return nil
}

// Blank returns empty answers stamped with the current versions, for a new assessment.
func (d *Definitions) Blank() Answers {
	return Answers{
		ChecklistVersion: d.Checklist.Version,
		Checklist:        map[string]bool{},
		ImpactVersion:    d.Impact.Version,
		Impact:           map[string]string{},
	}
}
