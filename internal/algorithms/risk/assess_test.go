package risk

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// complete answers every question of d: the checklist "no" except for yes, every impact
// question with its first choice (worth 0 points in the shipped questionnaire).
func complete(d *Definitions, yes ...string) Answers {
	a := d.Blank()
	for _, q := range d.Checklist.Questions() {
		a.Checklist[q.ID] = false
	}
	for _, id := range yes {
		a.Checklist[id] = true
	}
	for _, q := range d.Impact.Questions {
		a.Impact[q.ID] = q.Choices[0].ID
	}
	return a
}

// justification is exactly MinJustification characters once trimmed, several of them
// multi-byte, so that counting bytes instead of characters would be caught.
const justification = "  Només ordena sol·licituds; cap decisió automàtica.  "

type tierView struct {
	Tier                          string
	Practices, Areas, Cases       []string
	ExceptionClaimed, Submittable bool
	Missing                       []string
	Route                         Route
}

func viewTier(r Result) tierView {
	return tierView{
		Tier: r.Tier, Practices: ids(r.Practices), Areas: ids(r.Areas), Cases: ids(r.TransparencyCases),
		ExceptionClaimed: r.ExceptionClaimed, Submittable: r.Submittable, Missing: r.Missing, Route: r.Route,
	}
}

func TestAssessTier(t *testing.T) {
	if n := len([]rune(strings.TrimSpace(justification))); n != MinJustification {
		t.Fatalf("test justification has %d characters, want %d", n, MinJustification)
	}
	d := shipped(t)
	exception := func(text string, yes ...string) Answers {
		a := complete(d, yes...)
		a.Exception63, a.ExceptionJustification = true, text
		return a
	}
	one, two := Route{Approvals: 1}, Route{Approvals: 2, ExpertRequired: true}
	tests := []struct {
		name string
		a    Answers
		want tierView
	}{
		{"nothing", complete(d), tierView{Tier: Minimal, Submittable: true, Route: one}},
		{
			"Article 50 case", complete(d, "art50_1", "art50_2"),
			tierView{Tier: Limited, Cases: []string{"art50_1 Article 50(1)", "art50_2 Article 50(2)"}, Submittable: true, Route: one},
		},
		{
			"Annex III area", complete(d, "annex3_5", "art50_1"),
			tierView{Tier: High, Areas: []string{"annex3_5 Annex III, point 5"}, Cases: []string{"art50_1 Article 50(1)"}, Submittable: true, Route: two},
		},
		{
			"exception with justification, Article 50 case", exception(justification, "annex3_5", "art50_1"),
			tierView{Tier: Limited, Areas: []string{"annex3_5 Annex III, point 5"}, Cases: []string{"art50_1 Article 50(1)"}, ExceptionClaimed: true, Submittable: true, Route: one},
		},
		{
			"exception with justification, nothing else", exception(justification, "annex3_3"),
			tierView{Tier: Minimal, Areas: []string{"annex3_3 Annex III, point 3"}, ExceptionClaimed: true, Submittable: true, Route: one},
		},
		{
			"exception without justification", exception("   ", "annex3_5"),
			tierView{Tier: High, Areas: []string{"annex3_5 Annex III, point 5"}, Missing: []string{MissingJustification}, Route: two},
		},
		{
			"exception with a justification one character short", exception(strings.TrimSpace(justification)[:len(strings.TrimSpace(justification))-1]+"   ", "annex3_5"),
			tierView{Tier: High, Areas: []string{"annex3_5 Annex III, point 5"}, Missing: []string{MissingJustification}, Route: two},
		},
		{
			"exception claimed outside Annex III is ignored", exception("", "art50_4"),
			tierView{Tier: Limited, Cases: []string{"art50_4 Article 50(4)"}, Submittable: true, Route: one},
		},
		{
			"prohibited practice", complete(d, "art5_1_c"),
			tierView{Tier: Unacceptable, Practices: []string{"art5_1_c Article 5(1)(c)"}},
		},
		{
			"prohibited practice beats Annex III and the exception", exception(justification, "art5_1_h", "art5_1_a", "annex3_6", "art50_3"),
			tierView{
				Tier: Unacceptable, Practices: []string{"art5_1_a Article 5(1)(a)", "art5_1_h Article 5(1)(h)"},
				Areas: []string{"annex3_6 Annex III, point 6"}, Cases: []string{"art50_3 Article 50(3)"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := d.Assess(tt.a)
			if diff := cmp.Diff(tt.want, viewTier(r)); diff != "" {
				t.Errorf("Assess (-want +got):\n%s", diff)
			}
			for _, p := range r.Practices {
				if p.Text.In("ca") == "" || p.Text.In("en") == "" {
					t.Errorf("practice %s carries no text to name it", p.ID)
				}
			}
		})
	}
}

// scoring builds a minimal valid questionnaire: one impact question "i" and one mitigation
// question "m" whose choices "pN" are worth N points, so a test picks an exact percentage.
func scoring(t *testing.T, impact, mitigation []int) *Definitions {
	t.Helper()
	tr := func(s string) Text { return Text{"ca": s, "es": s, "en": s} }
	choices := func(points []int) []Choice {
		var cs []Choice
		for _, p := range points {
			cs = append(cs, Choice{ID: fmt.Sprintf("p%d", p), Text: tr(fmt.Sprint(p)), Points: p})
		}
		return cs
	}
	yesNo := func(id, group string) []Question {
		return []Question{{ID: id, Group: group, LegalRef: id, Text: tr(id)}}
	}
	d := &Definitions{
		Checklist: Checklist{
			Version:      "test-checklist",
			Prohibited:   yesNo("prohibited", GroupProhibited),
			High:         yesNo("high", GroupHigh),
			Transparency: yesNo("transparency", GroupTransparency),
			Exception:    yesNo("exception", GroupException)[0],
		},
		Impact: Questionnaire{Version: "test-impact", Questions: []Question{
			{ID: "i", Group: GroupImpact, Text: tr("impact"), Choices: choices(impact)},
			{ID: "m", Group: GroupMitigation, Text: tr("mitigation"), Choices: choices(mitigation)},
		}},
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("test questionnaire: %v", err)
	}
	return d
}

type levelView struct {
	ImpactScore, ImpactMax, MitigationScore, MitigationMax int
	MitigationReduction                                    bool
	Level                                                  int
	LevelName                                              string
}

func TestAssessLevel(t *testing.T) {
	// Out of 10,000 points a step of one point is 0.01 %: "just above" a boundary.
	plain := scoring(t, []int{0, 2500, 2501, 5000, 5001, 7500, 7501, 10000}, []int{0, 79, 80, 100})
	// Out of 68 points, 20, 40 and 60 reduced by 15 % are exactly 17, 34 and 51: 25, 50
	// and 75 %, the boundaries after the reduction.
	reduced := scoring(t, []int{0, 20, 21, 40, 41, 60, 61, 68}, []int{0, 79, 80, 100})
	// 4 of 5 mitigation points is exactly 80 %.
	small := scoring(t, []int{0, 20, 68}, []int{0, 3, 4, 5})

	tests := []struct {
		name       string
		d          *Definitions
		impact     int
		mitigation int
		level      int
		reduction  bool
	}{
		{"0 %", plain, 0, 0, 1, false},
		{"exactly 25 %", plain, 2500, 0, 1, false},
		{"just above 25 %", plain, 2501, 0, 2, false},
		{"exactly 50 %", plain, 5000, 0, 2, false},
		{"just above 50 %", plain, 5001, 0, 3, false},
		{"exactly 75 %", plain, 7500, 0, 3, false},
		{"just above 75 %", plain, 7501, 0, 4, false},
		{"100 %", plain, 10000, 100, 4, true},
		{"mitigation just below 80 %: no reduction", reduced, 20, 79, 2, false},
		{"mitigation exactly 80 %: 20 becomes 17, exactly 25 %", reduced, 20, 80, 1, true},
		{"reduced just above 25 %", reduced, 21, 80, 2, true},
		{"reduced exactly 50 %", reduced, 40, 80, 2, true},
		{"reduced just above 50 %", reduced, 41, 80, 3, true},
		{"reduced exactly 75 %", reduced, 60, 80, 3, true},
		{"reduced just above 75 %", reduced, 61, 100, 4, true},
		{"60 of 68 without the reduction is above 75 %", reduced, 60, 0, 4, false},
		{"mitigation 3 of 5 (60 %): no reduction", small, 20, 3, 2, false},
		{"mitigation 4 of 5 (80 %): reduction", small, 20, 4, 1, true},
		{"full mitigation", small, 68, 5, 4, true},
	}
	names := map[int]string{1: "I", 2: "II", 3: "III", 4: "IV"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := complete(tt.d)
			a.Impact["i"], a.Impact["m"] = fmt.Sprintf("p%d", tt.impact), fmt.Sprintf("p%d", tt.mitigation)
			r := tt.d.Assess(a)
			q := tt.d.Impact.Questions
			want := levelView{
				ImpactScore: tt.impact, ImpactMax: q[0].maxPoints(),
				MitigationScore: tt.mitigation, MitigationMax: q[1].maxPoints(),
				MitigationReduction: tt.reduction, Level: tt.level, LevelName: names[tt.level],
			}
			got := levelView{r.ImpactScore, r.ImpactMax, r.MitigationScore, r.MitigationMax, r.MitigationReduction, r.Level, r.LevelName()}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Assess (-want +got):\n%s", diff)
			}
			if !r.Submittable {
				t.Errorf("complete answers not submittable: missing %v, unknown %v", r.Missing, r.Unknown)
			}
		})
	}
}

func TestAdjustedImpact(t *testing.T) {
	r := Result{ImpactScore: 20, ImpactMax: 68, MitigationReduction: true}
	if got := r.AdjustedImpact(); got < 16.999 || got > 17.001 {
		t.Errorf("AdjustedImpact() = %v, want 17", got)
	}
	if got := r.ImpactPercent(); got < 24.999 || got > 25.001 {
		t.Errorf("ImpactPercent() = %v, want 25", got)
	}
	if got := (Result{}).ImpactPercent(); got != 0 {
		t.Errorf("ImpactPercent() with no maximum = %v, want 0", got)
	}
}

func TestAssessShippedScores(t *testing.T) {
	d := shipped(t)
	most := complete(d)
	for _, q := range d.Impact.Questions {
		best := q.Choices[0]
		for _, c := range q.Choices {
			if c.Points > best.Points {
				best = c
			}
		}
		most.Impact[q.ID] = best.ID
	}
	r := d.Assess(most)
	got := levelView{r.ImpactScore, r.ImpactMax, r.MitigationScore, r.MitigationMax, r.MitigationReduction, r.Level, r.LevelName()}
	want := levelView{38, 38, 22, 22, true, 4, "IV"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("every question at its maximum (-want +got):\n%s", diff)
	}
	if r.Route != (Route{Approvals: 2, ExpertRequired: true}) {
		t.Errorf("Route = %+v, want two approvals with an expert", r.Route)
	}
}

func TestRoute(t *testing.T) {
	tests := []struct {
		tier  string
		level int
		want  Route
	}{
		{High, 1, Route{2, true}},
		{High, 3, Route{2, true}},
		{Minimal, 4, Route{2, true}},
		{Limited, 4, Route{2, true}},
		{Minimal, 3, Route{2, false}},
		{Limited, 3, Route{2, false}},
		{Minimal, 1, Route{1, false}},
		{Minimal, 2, Route{1, false}},
		{Limited, 1, Route{1, false}},
		{Limited, 2, Route{1, false}},
		{Unacceptable, 1, Route{}},
		{Unacceptable, 4, Route{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s level %d", tt.tier, tt.level), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, RouteFor(tt.tier, tt.level)); diff != "" {
				t.Errorf("RouteFor (-want +got):\n%s", diff)
			}
		})
	}

	// The same through Assess, with the level coming from the test questionnaire.
	d := scoring(t, []int{0, 25, 50, 75, 100}, []int{0, 1})
	for _, tt := range []struct {
		yes    string
		impact string
		want   Route
	}{
		{"high", "p0", Route{2, true}},
		{"", "p100", Route{2, true}},
		{"transparency", "p75", Route{2, false}},
		{"", "p50", Route{1, false}},
		{"transparency", "p25", Route{1, false}},
		{"prohibited", "p100", Route{}},
	} {
		a := complete(d)
		if tt.yes != "" {
			a.Checklist[tt.yes] = true
		}
		a.Impact["i"] = tt.impact
		r := d.Assess(a)
		if diff := cmp.Diff(tt.want, r.Route); diff != "" {
			t.Errorf("%s %q %s, level %s: route (-want +got):\n%s", r.Tier, tt.yes, tt.impact, r.LevelName(), diff)
		}
	}
}

type completeness struct {
	Missing, Unknown             []string
	VersionMismatch, Submittable bool
}

func TestAssessCompleteness(t *testing.T) {
	d := shipped(t)
	var all []string
	for _, q := range d.Checklist.Questions() {
		all = append(all, q.ID)
	}
	for _, q := range d.Impact.Questions {
		all = append(all, q.ID)
	}
	tests := []struct {
		name string
		a    func() Answers
		want completeness
	}{
		{"new assessment", d.Blank, completeness{Missing: all}},
		{"nothing stored", func() Answers { return Answers{} }, completeness{Missing: all}},
		{"complete", func() Answers { return complete(d) }, completeness{Submittable: true}},
		{
			"some unanswered",
			func() Answers {
				a := complete(d)
				delete(a.Checklist, "art5_1_e")
				delete(a.Checklist, "art50_4")
				delete(a.Impact, "dpia")
				a.Impact["rollback"] = ""
				return a
			},
			completeness{Missing: []string{"art5_1_e", "art50_4", "dpia", "rollback"}},
		},
		{
			"unknown questions and choices",
			func() Answers {
				a := complete(d)
				a.Checklist["art5_1_z"] = true
				a.Checklist["rights"] = true // an impact question answered in the checklist
				a.Impact["colour"] = "blue"
				a.Impact["rights"] = "maybe"
				return a
			},
			completeness{
				Missing: []string{"rights"},
				Unknown: []string{"checklist:art5_1_z", "checklist:rights", "impact:colour", "impact:rights=maybe"},
			},
		},
		{
			"unknown answers alone do not block submission",
			func() Answers { a := complete(d); a.Impact["retired_question"] = "yes"; return a },
			completeness{Unknown: []string{"impact:retired_question"}, Submittable: true},
		},
		{
			"answered against an older checklist",
			func() Answers { a := complete(d); a.ChecklistVersion = "eu-ai-act-v0"; return a },
			completeness{VersionMismatch: true},
		},
		{
			"answered against an older questionnaire",
			func() Answers { a := complete(d); a.ImpactVersion = "impact-v0"; return a },
			completeness{VersionMismatch: true},
		},
		{
			"answers without a version",
			func() Answers { a := complete(d); a.ImpactVersion = ""; return a },
			completeness{VersionMismatch: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := d.Assess(tt.a())
			got := completeness{r.Missing, r.Unknown, r.VersionMismatch, r.Submittable}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Assess (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAssessDoesNotModifyAnswers(t *testing.T) {
	d := shipped(t)
	a := complete(d, "annex3_1")
	a.Impact["unknown"] = "x"
	before := complete(d, "annex3_1")
	before.Impact["unknown"] = "x"
	d.Assess(a)
	if diff := cmp.Diff(before, a); diff != "" {
		t.Errorf("answers changed (-want +got):\n%s", diff)
	}
}
