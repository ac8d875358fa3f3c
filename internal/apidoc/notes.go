package apidoc

import (
	"strings"

	"github.com/civictech/registry/internal/algorithms"
)

// What the Go types cannot say about the fields the system sets, by field path. Fact-sheet
// fields need none: their titles and hints are the forms' (labels.go) and their rules the
// validator's.
func (g *schemas) note(path string) *object {
	switch path {
	case "uuid":
		return obj("format", "uuid", "description", "The entry's permanent identifier.")
	case "slug":
		return obj("pattern", slugPattern, "description", "The entry's address name, as in /{lang}/algorithms/{slug}. "+
			"A renamed entry keeps its old slugs as redirects.")
	case "revision":
		return obj("minimum", 1, "description", "Number of this published revision: 1, 2, 3…")
	case "risk_category":
		return obj("$ref", g.enumRef(algorithms.RiskCategories).vals["$ref"],
			"description", "EU AI Act tier, computed from the risk assessment's checklist.")
	case "impact_level":
		return obj("$ref", g.enumRef(impactLevels()).vals["$ref"],
			"description", "Impact level I–IV, computed from the impact questionnaire.")
	case "risk_assessment":
		return obj("description", "The answers to the risk assessment, with the versions of the checklist and "+
			"of the questionnaire they answer.")
	case "risk_assessment.checklist":
		return obj("description", "EU AI Act checklist: question id → answered yes.")
	case "risk_assessment.impact":
		return obj("description", "Impact questionnaire: question id → chosen answer id.")
	case "risk_assessment.exception_6_3":
		return obj("description", "An Article 6(3) exception is claimed for an Annex III system.")
	case "publication_date":
		return obj("format", "date", "description", "When the entry was first published.")
	case "last_change_date":
		return obj("format", "date", "description", "When this revision was published.")
	case "governance":
		return obj("description", "The public outcome of this revision's ethics review.")
	case "governance.decision":
		return obj("const", "approved", "description", "Only approved revisions are published.")
	case "governance.decision_date":
		return obj("format", "date")
	case "governance.approvals":
		return obj("minimum", 0, "description", "Approvals by distinct reviewers.")
	case "governance.route":
		return obj("description", "The review the risk assessment required.")
	case "governance.route.approvals":
		return obj("minimum", 0, "description", "Approvals needed, by distinct reviewers.")
	case "governance.route.expert_required":
		return obj("description", "At least one approval must come from an external expert.")
	case "governance.conditions":
		return obj("description", "Public conditions the reviewers attached to their approval.")
	case "retired":
		return obj("description", "The entry is no longer in use: its latest revision retires it.")
	case "latest":
		return obj("description", "This is the entry's newest published revision.")
	}
	return nil
}

func impactLevels() []string {
	for _, e := range enumerations() {
		if e.name == "ImpactLevel" {
			return e.values
		}
	}
	return nil
}

// annotate adds the field's title, hint and notes to its schema, titles first for the reader.
func (g *schemas) annotate(s *object, f field) {
	n := g.note(f.path)
	if n == nil {
		n = obj()
	}
	out := obj()
	if label, ok := algorithms.FieldLabels[f.path]; ok {
		out.set("title", label)
	}
	desc := algorithms.FieldHints[f.path]
	if d, ok := n.get("description"); ok {
		desc = d.(string)
	}
	if f.sf.Tag.Get("kind") == "markdown" && !strings.Contains(desc, "Markdown") {
		desc = strings.TrimSpace(desc + " Markdown (CommonMark with GFM tables); raw HTML is not rendered.")
	}
	if desc != "" {
		out.set("description", desc)
	}
	for _, k := range s.keys {
		out.set(k, s.vals[k])
	}
	for _, k := range n.keys {
		if k != "description" {
			out.set(k, n.vals[k])
		}
	}
	*s = *out
}
