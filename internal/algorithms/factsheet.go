// Package algorithms owns the register's entries: algorithms, their numbered revisions with
// every fact-sheet field and the risk assessment, validation, slugs and owners, and the
// authoring pages and API.
package algorithms

import (
	"strings"
	"unicode/utf8"
)

// Text is a free-text field in several languages: {"ca": …, "es": …, "en": …}. The entry's
// original language (FactSheet.Lang) is required; translations are optional.
type Text map[string]string

// In returns the text in lang, and whether that is a fallback to another language because
// lang has none. order lists the languages to fall back to, original first.
func (t Text) In(lang string, order ...string) (string, bool) {
	if v := strings.TrimSpace(t[lang]); v != "" {
		return v, false
	}
	for _, l := range order {
		if v := strings.TrimSpace(t[l]); v != "" {
			return v, true
		}
	}
	return "", false
}

// Empty reports whether no language has any text.
func (t Text) Empty() bool {
	for _, v := range t {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// Clean trims every value and drops empty languages and unknown language codes.
func (t Text) Clean() Text {
	out := Text{}
	for _, l := range Languages {
		if v := strings.TrimSpace(strings.ReplaceAll(t[l], "\r\n", "\n")); v != "" {
			out[l] = v
		}
	}
	return out
}

func (t Text) longest() int {
	n := 0
	for _, v := range t {
		n = max(n, utf8.RuneCountInString(v))
	}
	return n
}

// Link is a titled link, e.g. to the text of a law.
type Link struct {
	Title string `json:"title" validate:"max=300"`
	URL   string `json:"url" validate:"omitempty,weburl"`
}

// DataSource describes one data set the algorithm uses.
type DataSource struct {
	Name              Text     `json:"name" validate:"textmax=300"`
	Description       Text     `json:"description,omitempty" kind:"long" validate:"textmax=5000"`
	PersonalData      bool     `json:"personal_data"`
	SpecialCategories []string `json:"special_categories,omitempty" validate:"dive,specialcategory"`
	Owner             string   `json:"owner,omitempty" validate:"max=300"`
	Licence           string   `json:"licence,omitempty" validate:"max=300"`
	OpenDataURL       string   `json:"open_data_url,omitempty" validate:"omitempty,weburl"`
	Retention         Text     `json:"retention,omitempty" validate:"textmax=1000"`
}

// ImpactAssessment records a DPIA, FRIA, AIA or other assessment, done or not (and why).
type ImpactAssessment struct {
	Kind          string `json:"kind" kind:"enum" validate:"omitempty,oneof=DPIA FRIA AIA other"`
	Done          bool   `json:"done"`
	Date          string `json:"date,omitempty" kind:"date" validate:"omitempty,isodate"`
	Summary       Text   `json:"summary,omitempty" kind:"long" validate:"textmax=5000"`
	URL           string `json:"url,omitempty" validate:"omitempty,weburl"`
	ReasonNotDone Text   `json:"reason_not_done,omitempty" kind:"long" validate:"textmax=2000"`
}

// Supplier is the external party that built or runs the algorithm, if any.
type Supplier struct {
	Name        string `json:"name,omitempty" validate:"max=300"`
	ID          string `json:"id,omitempty" validate:"max=100"`
	Role        Text   `json:"role,omitempty" validate:"textmax=1000"`
	Procurement Text   `json:"procurement,omitempty" kind:"long" validate:"textmax=2000"`
	ContractURL string `json:"contract_url,omitempty" validate:"omitempty,weburl"`
}

// IsZero reports whether nothing about a supplier was entered.
func (s Supplier) IsZero() bool {
	return s.Name == "" && s.ID == "" && s.Role.Empty() && s.Procurement.Empty() && s.ContractURL == ""
}

// FactSheet holds every field an author fills. JSON names follow the Eurocities standard
// where it has the field. Tags: `section` groups fields into the authoring pages; `validate`
// holds the rules every save must meet; `submit:"filled"` marks what a submission needs;
// `kind:"markdown"` marks long text rendered as Markdown.
type FactSheet struct {
	// Basic
	Name             Text     `json:"name" section:"basic" validate:"textmax=200" submit:"filled"`
	DescriptionShort Text     `json:"description_short" section:"basic" validate:"textmax=150" submit:"filled"`
	Organization     Text     `json:"organization" section:"basic" validate:"textmax=300" submit:"filled"`
	OrganizationID   string   `json:"organization_id,omitempty" section:"basic" validate:"max=50"`
	Department       Text     `json:"department" section:"basic" validate:"textmax=300" submit:"filled"`
	ContactEmail     string   `json:"contact_email" section:"basic" validate:"omitempty,email,max=254" submit:"filled"`
	ContactName      string   `json:"contact_name,omitempty" section:"basic" validate:"max=200"`
	ContactPhone     string   `json:"contact_phone,omitempty" section:"basic" validate:"omitempty,phone"`
	Area             Text     `json:"area" section:"basic" validate:"textmax=200" submit:"filled"`
	Domain           string   `json:"domain" section:"basic" validate:"omitempty,domain" submit:"filled"`
	Website          string   `json:"website,omitempty" section:"basic" validate:"omitempty,weburl"`
	Status           string   `json:"status" section:"basic" validate:"omitempty,oneof=planned design development pilot evaluation operational retired" submit:"filled"`
	StartDate        string   `json:"start_date,omitempty" section:"basic" validate:"omitempty,isodate"`
	EndDate          string   `json:"end_date,omitempty" section:"basic" validate:"omitempty,isodate"`
	EndReason        Text     `json:"end_reason,omitempty" section:"basic" validate:"textmax=2000"`
	Keywords         []string `json:"keywords,omitempty" section:"basic" validate:"max=30,dive,max=60"`
	Remark           Text     `json:"remark,omitempty" section:"basic" validate:"textmax=2000"`

	// Use
	Goal                   Text   `json:"goal" section:"use" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	DecisionMakingProcess  Text   `json:"decision_making_process" section:"use" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	Impact                 Text   `json:"impact" section:"use" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	Proportionality        Text   `json:"proportionality" section:"use" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	LawfulBasis            Text   `json:"lawful_basis" section:"use" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	LawfulBasisLinks       []Link `json:"lawful_basis_links,omitempty" section:"use" validate:"max=20,dive"`
	AlternativesConsidered Text   `json:"alternatives_considered,omitempty" section:"use" kind:"markdown" validate:"textmax=10000"`
	Documentation          string `json:"documentation,omitempty" section:"use" validate:"omitempty,weburl"`

	// Data
	TrainingData         Text         `json:"training_data" section:"data" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	SourceData           Text         `json:"source_data" section:"data" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	ConnectedDataSources Text         `json:"connected_data_sources" section:"data" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	DataBias             Text         `json:"data_bias,omitempty" section:"data" kind:"markdown" validate:"textmax=10000"`
	DataSources          []DataSource `json:"data_sources,omitempty" section:"data" validate:"max=50,dive"`

	// Algorithm
	AlgorithmType      string   `json:"algorithm_type" section:"algorithm" validate:"omitempty,oneof=self-learning rule-based hybrid" submit:"filled"`
	Type               string   `json:"type" section:"algorithm" validate:"omitempty,oneof=descriptive diagnostic predictive prescriptive" submit:"filled"`
	Description        Text     `json:"description" section:"algorithm" kind:"markdown" validate:"textmax=10000" submit:"filled,textmin=500"`
	MethodsAndModels   Text     `json:"methods_and_models,omitempty" section:"algorithm" kind:"markdown" validate:"textmax=10000"`
	Performance        Text     `json:"performance,omitempty" section:"algorithm" kind:"markdown" validate:"textmax=10000"`
	CodebaseURL        string   `json:"codebase_url,omitempty" section:"algorithm" validate:"omitempty,weburl"`
	ProductInformation string   `json:"product_information,omitempty" section:"algorithm" validate:"omitempty,weburl"`
	ProductPage        string   `json:"product_page,omitempty" section:"algorithm" validate:"omitempty,weburl"`
	Supplier           Supplier `json:"supplier,omitzero" section:"algorithm"`

	// Risk
	Risks             Text               `json:"risks" section:"risk" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	Mitigations       Text               `json:"mitigations,omitempty" section:"risk" kind:"markdown" validate:"textmax=10000"`
	ImpactAssessments []ImpactAssessment `json:"impact_assessments,omitempty" section:"risk" validate:"max=20,dive"`
	EUDatabaseURL     string             `json:"eu_database_url,omitempty" section:"risk" validate:"omitempty,weburl"`
	FRIASummary       Text               `json:"fria_summary,omitempty" section:"risk" kind:"markdown" validate:"textmax=10000"`
	DPIASummary       Text               `json:"dpia_summary,omitempty" section:"risk" kind:"markdown" validate:"textmax=10000"`

	// Oversight
	HumanIntervention  Text `json:"human_intervention" section:"oversight" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	Monitoring         Text `json:"monitoring" section:"oversight" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	ObjectionProcedure Text `json:"objection_procedure" section:"oversight" kind:"markdown" validate:"textmax=10000" submit:"filled"`
	Rollback           Text `json:"rollback,omitempty" section:"oversight" kind:"markdown" validate:"textmax=10000"`
	StaffTraining      Text `json:"staff_training,omitempty" section:"oversight" kind:"markdown" validate:"textmax=10000"`

	// Transparency
	TransparencyLimitations Text `json:"transparency_limitations,omitempty" section:"transparency" kind:"markdown" validate:"textmax=10000"`

	// Metadata an author sets; the rest (uuid, dates, standard version) the system sets.
	Lang         string `json:"lang" section:"basic" validate:"required,oneof=ca es en"`
	RevisionDate string `json:"revision_date,omitempty" section:"transparency" validate:"omitempty,isodate"`
	RevisionNote Text   `json:"revision_note,omitempty" section:"transparency" validate:"textmax=2000"`
}

// Sections are the authoring pages, in order.
var Sections = []string{"basic", "use", "data", "algorithm", "risk", "oversight", "transparency"}
