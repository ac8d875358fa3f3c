package risk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func shipped(t *testing.T) *Definitions {
	t.Helper()
	d, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return d
}

// fresh returns a private copy of the shipped definitions that a test may break.
func fresh(t *testing.T) *Definitions {
	t.Helper()
	d, err := parse(checklistJSON, impactJSON)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return d
}

func ids(qs []Question) []string {
	var out []string
	for _, q := range qs {
		out = append(out, q.ID+" "+q.LegalRef)
	}
	return out
}

func TestLoadShipped(t *testing.T) {
	d := shipped(t)
	if again, _ := Load(); again != d {
		t.Error("Load parsed the files twice")
	}
	got := map[string]any{
		"checklist":    d.Checklist.Version,
		"impact":       d.Impact.Version,
		"prohibited":   ids(d.Checklist.Prohibited),
		"high":         ids(d.Checklist.High),
		"transparency": ids(d.Checklist.Transparency),
		"exception":    d.Checklist.Exception.ID + " " + d.Checklist.Exception.LegalRef,
	}
	want := map[string]any{
		"checklist": "eu-ai-act-v1",
		"impact":    "impact-v1",
		"prohibited": []string{
			"art5_1_a Article 5(1)(a)", "art5_1_b Article 5(1)(b)", "art5_1_c Article 5(1)(c)",
			"art5_1_d Article 5(1)(d)", "art5_1_e Article 5(1)(e)", "art5_1_f Article 5(1)(f)",
			"art5_1_g Article 5(1)(g)", "art5_1_h Article 5(1)(h)",
		},
		"high": []string{
			"annex3_1 Annex III, point 1", "annex3_2 Annex III, point 2", "annex3_3 Annex III, point 3",
			"annex3_4 Annex III, point 4", "annex3_5 Annex III, point 5", "annex3_6 Annex III, point 6",
			"annex3_7 Annex III, point 7", "annex3_8 Annex III, point 8",
		},
		"transparency": []string{
			"art50_1 Article 50(1)", "art50_2 Article 50(2)", "art50_3 Article 50(3)", "art50_4 Article 50(4)",
		},
		"exception": "art6_3 Article 6(3)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shipped checklist (-want +got):\n%s", diff)
	}

	groups := map[string]int{}
	for _, q := range d.Impact.Questions {
		groups[q.Group]++
	}
	if groups[GroupImpact] < 8 || groups[GroupMitigation] < 6 || len(d.Impact.Questions) > 22 {
		t.Errorf("impact questionnaire groups = %v, want a balanced questionnaire of about 20 questions", groups)
	}
	// Every question in the checklist must carry help for data scientists.
	for _, q := range append(d.Checklist.Questions(), d.Checklist.Exception) {
		if len(q.Help) == 0 {
			t.Errorf("checklist question %s has no help", q.ID)
		}
	}
}

// TestValidateRefuses breaks a copy of the shipped definitions in one way per case and
// checks that Validate names exactly the item at fault.
func TestValidateRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(d *Definitions)
		want   []string
	}{
		{
			name:   "duplicate checklist id",
			mutate: func(d *Definitions) { d.Checklist.High[1].ID = "annex3_1" },
			want:   []string{`eu-ai-act-v1: question "annex3_1": duplicate id (also in eu-ai-act-v1)`},
		},
		{
			name:   "id shared by checklist and questionnaire",
			mutate: func(d *Definitions) { d.Impact.Questions[0].ID = "art50_1" },
			want:   []string{`impact-v1: question "art50_1": duplicate id (also in eu-ai-act-v1)`},
		},
		{
			name:   "missing translation",
			mutate: func(d *Definitions) { delete(d.Checklist.Prohibited[0].Text, "es") },
			want:   []string{`eu-ai-act-v1: question "art5_1_a" text: missing "es"`},
		},
		{
			name:   "blank translation of a choice",
			mutate: func(d *Definitions) { d.Impact.Questions[0].Choices[1].Text["ca"] = "  " },
			want:   []string{`impact-v1: question "people_affected" choice "100_1000" text: missing "ca"`},
		},
		{
			name:   "help in one language only",
			mutate: func(d *Definitions) { d.Checklist.Transparency[0].Help = Text{"en": "Help."} },
			want: []string{
				`eu-ai-act-v1: question "art50_1" help: missing "ca"`,
				`eu-ai-act-v1: question "art50_1" help: missing "es"`,
			},
		},
		{
			name:   "unknown language",
			mutate: func(d *Definitions) { d.Checklist.Exception.Text["fr"] = "Exception" },
			want:   []string{`eu-ai-act-v1: question "art6_3" text: unknown language "fr"`},
		},
		{
			name:   "missing legal reference",
			mutate: func(d *Definitions) { d.Checklist.High[4].LegalRef = "" },
			want:   []string{`eu-ai-act-v1: question "annex3_5": legal_ref is missing`},
		},
		{
			name: "checklist question with choices",
			mutate: func(d *Definitions) {
				d.Checklist.Transparency[3].Choices = d.Impact.Questions[0].Choices
			},
			want: []string{`eu-ai-act-v1: question "art50_4": a checklist question is answered yes or no and takes no choices`},
		},
		{
			name:   "empty section and missing version",
			mutate: func(d *Definitions) { d.Checklist.Version, d.Checklist.Prohibited = "", nil },
			want: []string{
				"checklist: version is missing",
				`checklist: section "prohibited" has no questions`,
			},
		},
		{
			name:   "badly formed id",
			mutate: func(d *Definitions) { d.Impact.Questions[2].ID = "Rights Q" },
			want:   []string{`impact-v1: question "Rights Q": id must be lower-case letters, digits and underscores`},
		},
		{
			name:   "unknown group",
			mutate: func(d *Definitions) { d.Impact.Questions[3].Group = "impacts" },
			want:   []string{`impact-v1: question "economic": group is "impacts", want "impact" or "mitigation"`},
		},
		{
			name:   "one choice",
			mutate: func(d *Definitions) { d.Impact.Questions[4].Choices = d.Impact.Questions[4].Choices[:1] },
			want:   []string{`impact-v1: question "reversibility": has 1 choices, needs at least 2`},
		},
		{
			name: "negative points and duplicate choice",
			mutate: func(d *Definitions) {
				c := d.Impact.Questions[5].Choices
				c[1].Points = -1
				c[2].ID = c[0].ID
			},
			want: []string{
				`impact-v1: question "duration" choice "short": points are -1, must be 0 or more`,
				`impact-v1: question "duration" choice "none": duplicate choice id`,
			},
		},
		{
			name: "no impact points",
			mutate: func(d *Definitions) {
				for i := range d.Impact.Questions {
					if d.Impact.Questions[i].Group == GroupImpact {
						for j := range d.Impact.Questions[i].Choices {
							d.Impact.Questions[i].Choices[j].Points = 0
						}
					}
				}
			},
			want: []string{"impact-v1: the maximum impact score is 0; at least one impact question must be worth points"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fresh(t)
			tt.mutate(d)
			err := d.Validate()
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("Validate() = %v, want a *DefinitionError", err)
			}
			if diff := cmp.Diff(tt.want, de.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(err.Error(), "risk: invalid definitions: ") || !strings.Contains(err.Error(), tt.want[0]) {
				t.Errorf("Error() = %q, want it to name %q", err, tt.want[0])
			}
		})
	}
}

func TestParseRefusesMalformedFiles(t *testing.T) {
	tests := []struct {
		name              string
		checklist, impact string
		want              []string // substrings of the error
	}{
		{
			name:      "misspelt field in the checklist",
			checklist: `{"version": "x", "prohibited": [], "hihg": []}`,
			impact:    string(impactJSON),
			want:      []string{"data/eu-ai-act-v1.json", `unknown field "hihg"`},
		},
		{
			name:      "misspelt field in a choice",
			checklist: string(checklistJSON),
			impact:    `{"version": "x", "questions": [{"id": "a", "group": "impact", "choices": [{"id": "b", "point": 1}]}]}`,
			want:      []string{"data/impact-v1.json", `unknown field "point"`},
		},
		{
			name:      "trailing data",
			checklist: string(checklistJSON) + "{}",
			impact:    string(impactJSON),
			want:      []string{"data/eu-ai-act-v1.json", "unexpected data"},
		},
		{
			name:      "valid JSON breaking a rule",
			checklist: string(checklistJSON),
			impact:    `{"version": "impact-v9", "questions": []}`,
			want:      []string{"risk: invalid definitions", "impact-v9: the maximum impact score is 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.checklist), []byte(tt.impact))
			if err == nil {
				t.Fatal("parse succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestAnswersJSON(t *testing.T) {
	a := Answers{
		ChecklistVersion:       "eu-ai-act-v1",
		Checklist:              map[string]bool{"art50_1": true, "annex3_5": false},
		Exception63:            true,
		ExceptionJustification: "Only a procedural task.",
		ImpactVersion:          "impact-v1",
		Impact:                 map[string]string{"rights": "no"},
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"checklist_version":"eu-ai-act-v1","checklist":{"annex3_5":false,"art50_1":true},` +
		`"exception_6_3":true,"exception_justification":"Only a procedural task.",` +
		`"impact_version":"impact-v1","impact":{"rights":"no"}}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("stored JSON (-want +got):\n%s", diff)
	}
	var back Answers
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestTextIn(t *testing.T) {
	tx := Text{"ca": "Sí", "en": "Yes"}
	got := []string{tx.In("es"), tx.In("en"), Text{"en": "Yes"}.In("es"), Text{}.In("ca")}
	if diff := cmp.Diff([]string{"Sí", "Yes", "Yes", ""}, got); diff != "" {
		t.Errorf("In (-want +got):\n%s", diff)
	}
}
