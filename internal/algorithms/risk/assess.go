package risk

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Answers is an author's risk assessment, stored with the revision (as jsonb). It records
// the versions of the question sets it was answered against.
type Answers struct {
	ChecklistVersion       string            `json:"checklist_version"`
	Checklist              map[string]bool   `json:"checklist"` // question id → yes; missing = not answered
	Exception63            bool              `json:"exception_6_3"`
	ExceptionJustification string            `json:"exception_justification,omitempty"`
	ImpactVersion          string            `json:"impact_version"`
	Impact                 map[string]string `json:"impact"` // question id → choice id
}

// Scoring rules from the product specification.
const (
	// MinJustification is the least number of characters (after trimming) an Article 6(3)
	// exception's justification needs.
	MinJustification = 50
	// MitigationThresholdPercent is the share of the maximum mitigation score that earns
	// the reduction; MitigationReductionPercent is the share taken off the impact score.
	MitigationThresholdPercent = 80
	MitigationReductionPercent = 15
)

// MissingJustification is listed in Result.Missing when the Article 6(3) exception is
// claimed without a sufficient justification. It names the Answers field to fill in.
const MissingJustification = "exception_justification"

// Route is the review a revision needs before publication.
type Route struct {
	Approvals      int  `json:"approvals"`       // by distinct reviewers
	ExpertRequired bool `json:"expert_required"` // at least one of them an external expert
}

// Result is a scored assessment. Scores and levels are computed from whatever is answered,
// so a form can show them as the author goes; they are final only when Missing is empty.
type Result struct {
	Tier              string     `json:"tier"`
	Practices         []Question `json:"practices,omitempty"`          // prohibited practices answered yes
	Areas             []Question `json:"areas,omitempty"`              // Annex III areas answered yes
	TransparencyCases []Question `json:"transparency_cases,omitempty"` // Article 50 cases answered yes
	// ExceptionClaimed is true when an Article 6(3) exception with a sufficient justification
	// takes an Annex III system out of the high-risk tier. A reviewer must accept it.
	ExceptionClaimed bool `json:"exception_claimed"`

	// ImpactScore is the sum of the chosen impact points before any reduction;
	// MitigationReduction says whether the 15 % reduction applies (see AdjustedImpact).
	ImpactScore         int  `json:"impact_score"`
	ImpactMax           int  `json:"impact_max"`
	MitigationScore     int  `json:"mitigation_score"`
	MitigationMax       int  `json:"mitigation_max"`
	MitigationReduction bool `json:"mitigation_reduction"`
	Level               int  `json:"level"` // 1–4

	Route       Route `json:"route"` // zero for an unacceptable system
	Submittable bool  `json:"submittable"`
	// Missing lists unanswered question ids in form order, then MissingJustification.
	Missing []string `json:"missing,omitempty"`
	// Unknown lists ignored answers, sorted: "checklist:ID" or "impact:ID" for a question id
	// the definitions do not have, "impact:ID=CHOICE" for a choice its question does not have.
	Unknown []string `json:"unknown,omitempty"`
	// VersionMismatch says that the answers were recorded against other versions of the
	// question sets (or carry none); the author must review and save them again.
	VersionMismatch bool `json:"version_mismatch"`
}

var levelNames = [...]string{"", "I", "II", "III", "IV"}

// LevelName returns the impact level as a Roman numeral, "I" to "IV".
func (r Result) LevelName() string {
	if r.Level < 1 || r.Level >= len(levelNames) {
		return ""
	}
	return levelNames[r.Level]
}

// AdjustedImpact returns the impact score after the mitigation reduction, for display.
func (r Result) AdjustedImpact() float64 {
	if r.MitigationReduction {
		return float64(r.ImpactScore) * (100 - MitigationReductionPercent) / 100
	}
	return float64(r.ImpactScore)
}

// ImpactPercent returns the adjusted impact score as a percentage of the maximum, for
// display; Level is decided in exact integer arithmetic, not from this value.
func (r Result) ImpactPercent() float64 {
	if r.ImpactMax == 0 {
		return 0
	}
	return r.AdjustedImpact() * 100 / float64(r.ImpactMax)
}

// Assess scores answers against d. Unanswered questions count as "no" or zero points and are
// listed in Missing; answers to questions or choices d does not know are ignored and listed
// in Unknown. A revision may be submitted only when the result is Submittable: nothing
// missing, the current versions, and no prohibited practice.
func (d *Definitions) Assess(a Answers) Result {
	var r Result
	r.VersionMismatch = mismatch(a.ChecklistVersion, d.Checklist.Version, len(a.Checklist) > 0 || a.Exception63) ||
		mismatch(a.ImpactVersion, d.Impact.Version, len(a.Impact) > 0)

	d.assessChecklist(a, &r)
	d.assessImpact(a, &r)
	slices.Sort(r.Unknown)

	r.Level = level(r.ImpactScore, r.ImpactMax, r.MitigationReduction)
	r.Route = RouteFor(r.Tier, r.Level)
	r.Submittable = r.Tier != Unacceptable && len(r.Missing) == 0 && !r.VersionMismatch
	return r
}

// mismatch reports answers recorded against a version other than current; answers with no
// version count as mismatched unless there are none.
func mismatch(recorded, current string, answered bool) bool {
	return recorded != current && (recorded != "" || answered)
}

func (d *Definitions) assessChecklist(a Answers, r *Result) {
	known := map[string]bool{}
	for _, q := range d.Checklist.Questions() {
		known[q.ID] = true
		yes, answered := a.Checklist[q.ID]
		if !answered {
			r.Missing = append(r.Missing, q.ID)
		}
		if !yes {
			continue
		}
		switch q.Group {
		case GroupProhibited:
			r.Practices = append(r.Practices, q)
		case GroupHigh:
			r.Areas = append(r.Areas, q)
		case GroupTransparency:
			r.TransparencyCases = append(r.TransparencyCases, q)
		}
	}
	for id := range a.Checklist {
		if !known[id] {
			r.Unknown = append(r.Unknown, "checklist:"+id)
		}
	}

	// The exception matters only for a system in an Annex III area.
	claimed := a.Exception63 && len(r.Areas) > 0
	justified := utf8.RuneCountInString(strings.TrimSpace(a.ExceptionJustification)) >= MinJustification
	if claimed && !justified {
		r.Missing = append(r.Missing, MissingJustification)
	}
	switch {
	case len(r.Practices) > 0:
		r.Tier = Unacceptable
	case len(r.Areas) > 0 && !(claimed && justified):
		r.Tier = High
	case len(r.TransparencyCases) > 0:
		r.Tier = Limited
	default:
		r.Tier = Minimal
	}
	r.ExceptionClaimed = r.Tier != Unacceptable && claimed && justified
}

func (d *Definitions) assessImpact(a Answers, r *Result) {
	known := map[string]bool{}
	for _, q := range d.Impact.Questions {
		known[q.ID] = true
		score, maxScore := &r.ImpactScore, &r.ImpactMax
		if q.Group == GroupMitigation {
			score, maxScore = &r.MitigationScore, &r.MitigationMax
		}
		*maxScore += q.maxPoints()

		choice := a.Impact[q.ID]
		if choice == "" {
			r.Missing = append(r.Missing, q.ID)
			continue
		}
		i := slices.IndexFunc(q.Choices, func(c Choice) bool { return c.ID == choice })
		if i < 0 {
			r.Unknown = append(r.Unknown, "impact:"+q.ID+"="+choice)
			r.Missing = append(r.Missing, q.ID)
			continue
		}
		*score += q.Choices[i].Points
	}
	for id := range a.Impact {
		if !known[id] {
			r.Unknown = append(r.Unknown, "impact:"+id)
		}
	}
	// score/max ≥ 80 % ⇔ 100·score ≥ 80·max, in integers so the boundary is exact.
	r.MitigationReduction = r.MitigationMax > 0 &&
		100*r.MitigationScore >= MitigationThresholdPercent*r.MitigationMax
}

// level returns the impact level for an impact score out of maxScore. The comparison is
// done in integers scaled by 100 (the reduced score is 85·score/100, the percentage
// 100·that/max), so a score exactly on a boundary falls in the lower level.
func level(score, maxScore int, reduced bool) int {
	if maxScore <= 0 {
		return 1
	}
	scaled := 100 * score // the adjusted score, in hundredths of a point
	if reduced {
		scaled = (100 - MitigationReductionPercent) * score
	}
	// adjusted/max ≤ p % ⇔ scaled/100 ≤ p·max/100 ⇔ scaled ≤ p·max.
	for lvl, bound := range []int{25, 50, 75} {
		if scaled <= bound*maxScore {
			return lvl + 1
		}
	}
	return 4
}

// RouteFor returns the review route for a tier and impact level: high risk or level IV need
// two approvals by distinct reviewers, one an external expert; level III two approvals;
// anything else one. An unacceptable system has no route (the zero Route): it cannot be
// submitted.
func RouteFor(tier string, level int) Route {
	switch {
	case tier == Unacceptable:
		return Route{}
	case tier == High || level >= 4:
		return Route{Approvals: 2, ExpertRequired: true}
	case level == 3:
		return Route{Approvals: 2}
	default:
		return Route{Approvals: 1}
	}
}
