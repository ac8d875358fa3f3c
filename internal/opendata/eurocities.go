package opendata

import (
	"strings"
	"time"

	"github.com/civictech/registry/internal/algorithms"
)

// StandardVersion is the version of the Eurocities Algorithmic Transparency Standard that
// the projection follows.
const StandardVersion = "0.3.1"

// EurocitiesEntry is one registration in the Eurocities Algorithmic Transparency Standard
// v0.3.1: exactly the standard's attributes, in its order, and no others.
//
// Source of the attribute list, names, types, enumerations and required flags: the
// standard's data schema, github.com/Algoritmeregister/standard, _data/schema-v0_3_1.yaml
// (published as https://standaard.algoritmeregister.org/schemas/registration-v0.3.1.schema.json
// and linked from the Eurocities page, github.com/AlgorithmRegister/algorithmregister.github.io,
// standard.md, "Version 0.3.1 (beta)"). It has 50 attributes, not the 49 PRODUCT.md counts,
// and it differs from PRODUCT.md's list: the standard has country, contact_phone,
// alternatives_considered, rollback and revision_note, and has no organization_id,
// start_date, end_date, end_reason, supplier, impact_level or mitigations. What the register
// holds beyond the standard is folded into the nearest attribute where the standard's own
// description asks for it (mitigations into risks, end_reason into remark, a FRIA into
// AIA_description) and otherwise left to the native export.
//
// Required attributes carry no omitempty: the projection always fills them. Optional ones
// are left out when empty, never sent as "".
type EurocitiesEntry struct {
	// BASIC INFORMATION
	Name             string `json:"name"`
	Organization     string `json:"organization"`
	Department       string `json:"department"`
	Country          string `json:"country"`
	ContactEmail     string `json:"contact_email"`
	ContactPhone     string `json:"contact_phone,omitempty"`
	ContactName      string `json:"contact_name,omitempty"`
	DescriptionShort string `json:"description_short"`
	Website          string `json:"website,omitempty"`
	Status           string `json:"status"`
	Remark           string `json:"remark,omitempty"`

	// USE CASE
	DecisionMakingProcess string `json:"decision_making_process"`
	Domain                string `json:"domain"`
	Area                  string `json:"area"`
	Goal                  string `json:"goal"`
	Impact                string `json:"impact"`
	Risks                 string `json:"risks"`
	RiskCategory          string `json:"risk_category"`
	Proportionality       string `json:"proportionality"`
	LawfulBasis           string `json:"lawful_basis"`
	Documentation         string `json:"documentation,omitempty"`

	// DATA
	TrainingData         string `json:"training_data"`
	SourceData           string `json:"source_data"`
	DataBias             string `json:"data_bias,omitempty"`
	ConnectedDataSources string `json:"connected_data_sources"`
	DPIADescription      string `json:"DPIA_description,omitempty"`
	DPIAURL              string `json:"DPIA_url,omitempty"`

	// ALGORITHM
	AlgorithmType          string `json:"algorithm_type"`
	Description            string `json:"description"` // optional in the standard; the register requires it
	MethodsAndModels       string `json:"methods_and_models,omitempty"`
	Performance            string `json:"performance,omitempty"`
	AlternativesConsidered string `json:"alternatives_considered,omitempty"`
	ProductInformation     string `json:"product_information,omitempty"`
	CodebaseURL            string `json:"codebase_url,omitempty"`
	ProductPage            string `json:"product_page,omitempty"`
	AIADescription         string `json:"AIA_description,omitempty"`
	AIAURL                 string `json:"AIA_url,omitempty"`

	// OVERSIGHT
	Type               string `json:"type"`
	Monitoring         string `json:"monitoring"`
	HumanIntervention  string `json:"human_intervention"`
	ObjectionProcedure string `json:"objection_procedure"`
	Rollback           string `json:"rollback,omitempty"`

	// METADATA
	StandardVersion string `json:"standard_version"`
	UUID            string `json:"uuid"` // optional in the standard; the register always has one
	Lang            string `json:"lang"`
	PublicationDate string `json:"publication_date"`
	LastChangeDate  string `json:"last_change_date"`
	RevisionDate    string `json:"revision_date"`
	RevisionNote    string `json:"revision_note,omitempty"`
	Keywords        string `json:"keywords,omitempty"` // a string in the standard: comma-separated
}

// country is the standard's required "country" of the responsible organisation, in the
// language of the registration (the standard's examples: 'The Netherlands', 'Spain'). The
// register serves one city council; a council elsewhere changes this table.
var country = algorithms.Text{"ca": "Espanya", "es": "España", "en": "Spain"}

// foldLabels introduce register fields folded into a standard attribute, in the entry's
// language (the same words as the fact sheet's labels in the i18n catalogue).
var foldLabels = map[string]algorithms.Text{
	"mitigations": {"ca": "Mesures de mitigació", "es": "Medidas de mitigación", "en": "Mitigations"},
	"end_reason":  {"ca": "Motiu de la retirada", "es": "Motivo de la retirada", "en": "Reason for ending"},
}

// Project maps a published record onto the standard: text in the entry's original
// language (another language only if the original is empty), enumerations as they are
// (the register already spells them as the standard does).
func Project(rec *algorithms.Record) *EurocitiesEntry {
	s := &rec.FactSheet
	lang := s.Lang
	text := func(t algorithms.Text) string {
		v, _ := t.In(lang, algorithms.Languages...)
		return v
	}
	status := s.Status
	if rec.Retired {
		status = "retired"
	}
	dpiaText, dpiaURL := assessment(s, lang, "DPIA")
	if dpiaText == "" {
		dpiaText = text(s.DPIASummary)
	}
	aiaText, aiaURL := assessment(s, lang, "AIA")
	if aiaText == "" && aiaURL == "" {
		// A fundamental rights impact assessment is an algorithm impact assessment in the
		// standard's sense (its examples include FRAIA); the prefix says which one was used.
		if aiaText, aiaURL = assessment(s, lang, "FRIA"); aiaText == "" {
			aiaText = text(s.FRIASummary)
		}
		if aiaText != "" {
			aiaText = "FRIA: " + aiaText
		}
	}
	return &EurocitiesEntry{
		Name: text(s.Name), Organization: text(s.Organization), Department: text(s.Department),
		Country: country[lang], ContactEmail: s.ContactEmail, ContactPhone: s.ContactPhone, ContactName: s.ContactName,
		DescriptionShort: text(s.DescriptionShort), Website: s.Website, Status: status,
		Remark: fold(text(s.Remark), lang, "end_reason", text(s.EndReason)),

		DecisionMakingProcess: text(s.DecisionMakingProcess), Domain: s.Domain, Area: text(s.Area),
		Goal: text(s.Goal), Impact: text(s.Impact), Risks: fold(text(s.Risks), lang, "mitigations", text(s.Mitigations)),
		RiskCategory: rec.RiskCategory, Proportionality: text(s.Proportionality), LawfulBasis: text(s.LawfulBasis),
		Documentation: s.Documentation,

		TrainingData: text(s.TrainingData), SourceData: text(s.SourceData), DataBias: text(s.DataBias),
		ConnectedDataSources: text(s.ConnectedDataSources), DPIADescription: dpiaText, DPIAURL: dpiaURL,

		AlgorithmType: s.AlgorithmType, Description: text(s.Description), MethodsAndModels: text(s.MethodsAndModels),
		Performance: text(s.Performance), AlternativesConsidered: text(s.AlternativesConsidered),
		ProductInformation: s.ProductInformation, CodebaseURL: s.CodebaseURL, ProductPage: s.ProductPage,
		AIADescription: aiaText, AIAURL: aiaURL,

		Type: s.Type, Monitoring: text(s.Monitoring), HumanIntervention: text(s.HumanIntervention),
		ObjectionProcedure: text(s.ObjectionProcedure), Rollback: text(s.Rollback),

		StandardVersion: StandardVersion, UUID: rec.UUID, Lang: lang,
		PublicationDate: rec.PublicationDate, LastChangeDate: rec.LastChangeDate,
		RevisionDate: revisionDate(s.RevisionDate, rec.LastChangeDate), RevisionNote: text(s.RevisionNote),
		Keywords: strings.Join(s.Keywords, ", "),
	}
}

// assessment returns the text and address of the first impact assessment of kind: its
// summary, or the reason it was not done.
func assessment(s *algorithms.FactSheet, lang, kind string) (string, string) {
	for _, a := range s.ImpactAssessments {
		if a.Kind != kind {
			continue
		}
		v, _ := a.Summary.In(lang, algorithms.Languages...)
		if v == "" {
			v, _ = a.ReasonNotDone.In(lang, algorithms.Languages...)
		}
		return v, a.URL
	}
	return "", ""
}

// fold appends a register field that the standard has no attribute for to the attribute
// whose description asks for it, after a label of its own. The label stands on its own line,
// so that Markdown in the field (a list, say) keeps its shape.
func fold(main, lang, name, extra string) string {
	switch {
	case extra == "":
		return main
	case main == "":
		return foldLabels[name][lang] + ":\n\n" + extra
	}
	return main + "\n\n" + foldLabels[name][lang] + ":\n\n" + extra
}

// revisionDate is the author's next review date, or one year after this revision was
// published. PRODUCT.md says a year after "publication"; counting from this revision rather
// than the entry's first publication keeps a revised entry from showing as overdue.
func revisionDate(set, lastChange string) string {
	if set != "" {
		return set
	}
	t, err := time.Parse(time.DateOnly, lastChange)
	if err != nil {
		return lastChange
	}
	return t.AddDate(1, 0, 0).Format(time.DateOnly)
}
