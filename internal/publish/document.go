// Package publish serves the public register: fact sheets composed from published
// revisions, their cache, search, history, feeds and exports.
package publish

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/markdown"
)

// Document is a fact sheet composed for one language: an ordered list of sections of
// labelled blocks, each Markdown. The HTML page and the .md file are both made from it, so
// they never disagree.
type Document struct {
	Lang          string // the language of the page
	Original      string // the entry's original language
	Title         string
	TitleFallback bool
	Summary       Block
	Facts         []Fact
	Sections      []Section
	// Embedded marks a fact sheet shown inside another page (the review page), whose own
	// heading is the page's h1.
	Embedded bool
}

// Fact is a short labelled value shown at the top (status, domain, risk…).
type Fact struct {
	Label, Value string
}

// Section is one part of the fact sheet.
type Section struct {
	ID     string
	Title  string
	Intro  string // a sentence explaining the section, already in the page language
	Blocks []Block
}

// Block is one field: its label, its text as Markdown, the language the text is in (it
// differs from the page's when a translation is missing) and its rendered HTML.
type Block struct {
	Field    string
	Label    string
	Markdown string
	Lang     string
	Fallback bool
	HTML     template.HTML
}

// Translator translates catalogue keys into the page language.
type Translator func(key string, args ...any) string

// Governance is the outcome of the review that published a revision (filled by the review
// workflow; empty in a preview).
type Governance struct {
	Decision   string // "approved", or "" before publication
	Date       string // YYYY-MM-DD
	Approvals  int
	Conditions []string
}

// Compose builds the fact sheet of sheet in lang. Every text falls back to the original
// language (marked) when lang has none.
func Compose(sheet *algorithms.FactSheet, assessment risk.Result, gov Governance, lang string, t Translator) *Document {
	c := composer{sheet: sheet, lang: lang, T: t}
	d := &Document{Lang: lang, Original: sheet.Lang}
	d.Title, d.TitleFallback = sheet.Name.In(lang, sheet.Lang)
	d.Summary = c.text("description_short", sheet.DescriptionShort)
	d.Facts = c.facts(assessment)
	d.Sections = []Section{
		c.section("purpose",
			c.text("goal", sheet.Goal), c.text("decision_making_process", sheet.DecisionMakingProcess),
			c.text("impact", sheet.Impact)),
		c.section("your-rights",
			c.text("human_intervention", sheet.HumanIntervention), c.text("objection_procedure", sheet.ObjectionProcedure),
			c.contact()),
		c.section("risk",
			c.plain("risk_category", explainRisk(assessment, t)), c.governance(gov),
			c.text("risks", sheet.Risks), c.text("mitigations", sheet.Mitigations),
			c.assessments(), c.text("proportionality", sheet.Proportionality),
			c.text("fria_summary", sheet.FRIASummary), c.text("dpia_summary", sheet.DPIASummary),
			c.link("eu_database_url", sheet.EUDatabaseURL)),
		c.section("how-it-works",
			c.text("description", sheet.Description), c.text("methods_and_models", sheet.MethodsAndModels),
			c.text("performance", sheet.Performance), c.supplier(),
			c.link("codebase_url", sheet.CodebaseURL), c.link("product_page", sheet.ProductPage),
			c.link("product_information", sheet.ProductInformation)),
		c.section("data",
			c.text("training_data", sheet.TrainingData), c.text("source_data", sheet.SourceData),
			c.text("connected_data_sources", sheet.ConnectedDataSources), c.text("data_bias", sheet.DataBias),
			c.dataSources()),
		c.section("legal",
			c.text("lawful_basis", sheet.LawfulBasis), c.lawLinks(),
			c.text("alternatives_considered", sheet.AlternativesConsidered)),
		c.section("monitoring",
			c.text("monitoring", sheet.Monitoring), c.text("rollback", sheet.Rollback),
			c.text("staff_training", sheet.StaffTraining)),
		c.section("transparency",
			c.text("transparency_limitations", sheet.TransparencyLimitations), c.link("documentation", sheet.Documentation),
			c.link("website", sheet.Website), c.text("remark", sheet.Remark),
			c.text("end_reason", sheet.EndReason), c.text("revision_note", sheet.RevisionNote)),
	}
	return d
}

// sectionHeadings title the fact sheet's sections, in order of appearance.
var sectionHeadings = map[string]string{ // i18n
	"purpose":      "What it is for",
	"your-rights":  "Human oversight and your rights",
	"risk":         "Risks and ethics review",
	"how-it-works": "How it works",
	"data":         "Data",
	"legal":        "Legal basis",
	"monitoring":   "Monitoring and fallback",
	"transparency": "Transparency",
}

// sectionIntros explain a section in a sentence, where it helps.
var sectionIntros = map[string]string{ // i18n
	"your-rights": "A person is responsible for every decision. This is how you can ask for a review.",
}

type composer struct {
	sheet *algorithms.FactSheet
	lang  string
	T     Translator
}

func (c composer) label(field string) string { return c.T(algorithms.FieldLabels[field]) }

func (c composer) text(field string, text algorithms.Text) Block {
	md, fallback := text.In(c.lang, c.sheet.Lang, "ca", "es", "en")
	lang := c.lang
	if fallback {
		for _, l := range []string{c.sheet.Lang, "ca", "es", "en"} {
			if strings.TrimSpace(text[l]) != "" {
				lang = l
				break
			}
		}
	}
	return Block{Field: field, Label: c.label(field), Markdown: md, Lang: lang, Fallback: fallback}
}

func (c composer) plain(field, md string) Block {
	return Block{Field: field, Label: c.label(field), Markdown: md, Lang: c.lang}
}

func (c composer) link(field, url string) Block {
	if url == "" {
		return Block{}
	}
	return c.plain(field, fmt.Sprintf("<%s>", url))
}

func (c composer) section(id string, blocks ...Block) Section {
	s := Section{ID: id, Title: c.T(sectionHeadings[id])}
	if intro := sectionIntros[id]; intro != "" {
		s.Intro = c.T(intro)
	}
	for _, b := range blocks {
		if strings.TrimSpace(b.Markdown) != "" {
			s.Blocks = append(s.Blocks, b)
		}
	}
	return s
}

func (c composer) facts(a risk.Result) []Fact {
	s := c.sheet
	dept, _ := s.Department.In(c.lang, s.Lang)
	facts := []Fact{
		{c.label("status"), c.T(s.Status)},
		{c.label("department"), dept},
		{c.label("domain"), c.T(s.Domain)},
		{c.label("algorithm_type"), c.T(s.AlgorithmType)},
		{c.label("type"), c.T(s.Type)},
	}
	if a.Tier != "" {
		facts = append(facts, Fact{c.T("EU AI Act tier"), c.T(a.Tier)})
	}
	if a.LevelName() != "" {
		facts = append(facts, Fact{c.T("Impact level"), a.LevelName()})
	}
	if s.StartDate != "" {
		facts = append(facts, Fact{c.label("start_date"), s.StartDate})
	}
	if s.EndDate != "" {
		facts = append(facts, Fact{c.label("end_date"), s.EndDate})
	}
	var out []Fact
	for _, f := range facts {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

func (c composer) contact() Block {
	s := c.sheet
	var lines []string
	if s.ContactName != "" {
		lines = append(lines, escapeMD(s.ContactName))
	}
	if s.ContactEmail != "" {
		lines = append(lines, fmt.Sprintf("[%s](mailto:%s)", escapeMD(s.ContactEmail), s.ContactEmail))
	}
	if s.ContactPhone != "" {
		lines = append(lines, escapeMD(s.ContactPhone))
	}
	return c.plain("contact_email", strings.Join(lines, "  \n"))
}

func (c composer) governance(g Governance) Block {
	if g.Decision == "" {
		return Block{}
	}
	md := c.T("Approved by the ethics committee on %s with %d approval(s).", g.Date, g.Approvals)
	if len(g.Conditions) > 0 {
		md += "\n\n**" + c.T("Public conditions:") + "**\n"
		for _, cond := range g.Conditions {
			md += "\n- " + oneLine(cond)
		}
	}
	return Block{Field: "governance", Label: c.T("Ethics committee decision"), Markdown: md, Lang: c.lang}
}

func (c composer) assessments() Block {
	var b strings.Builder
	for _, ia := range c.sheet.ImpactAssessments {
		done := c.T("not done")
		if ia.Done {
			done = c.T("done")
		}
		fmt.Fprintf(&b, "- **%s**: %s", escapeMD(ia.Kind), done)
		if ia.Date != "" {
			fmt.Fprintf(&b, " (%s)", ia.Date)
		}
		if s, _ := ia.Summary.In(c.lang, c.sheet.Lang); s != "" {
			fmt.Fprintf(&b, ". %s", oneLine(s))
		}
		if s, _ := ia.ReasonNotDone.In(c.lang, c.sheet.Lang); s != "" && !ia.Done {
			fmt.Fprintf(&b, ". %s", oneLine(s))
		}
		if ia.URL != "" {
			fmt.Fprintf(&b, " <%s>", ia.URL)
		}
		b.WriteString("\n")
	}
	return c.plain("impact_assessments", b.String())
}

func (c composer) dataSources() Block {
	var b strings.Builder
	for _, ds := range c.sheet.DataSources {
		name, _ := ds.Name.In(c.lang, c.sheet.Lang)
		fmt.Fprintf(&b, "- **%s**", escapeMD(name))
		if d, _ := ds.Description.In(c.lang, c.sheet.Lang); d != "" {
			fmt.Fprintf(&b, ": %s", oneLine(d))
		}
		var notes []string
		if ds.PersonalData {
			notes = append(notes, c.T("contains personal data"))
		}
		for _, sc := range ds.SpecialCategories {
			notes = append(notes, c.T(sc))
		}
		if ds.Owner != "" {
			notes = append(notes, c.label("data_sources.owner")+": "+escapeMD(ds.Owner))
		}
		if ds.Licence != "" {
			notes = append(notes, c.label("data_sources.licence")+": "+escapeMD(ds.Licence))
		}
		if r, _ := ds.Retention.In(c.lang, c.sheet.Lang); r != "" {
			notes = append(notes, c.label("data_sources.retention")+": "+oneLine(r))
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(notes, "; "))
		}
		if ds.OpenDataURL != "" {
			fmt.Fprintf(&b, " [%s](%s)", c.T("Open data"), ds.OpenDataURL)
		}
		b.WriteString("\n")
	}
	return c.plain("data_sources", b.String())
}

func (c composer) lawLinks() Block {
	var b strings.Builder
	for _, l := range c.sheet.LawfulBasisLinks {
		title := l.Title
		if title == "" {
			title = l.URL
		}
		if l.URL != "" {
			fmt.Fprintf(&b, "- [%s](%s)\n", escapeMD(title), l.URL)
		} else {
			fmt.Fprintf(&b, "- %s\n", escapeMD(title))
		}
	}
	return c.plain("lawful_basis_links", b.String())
}

func (c composer) supplier() Block {
	s := c.sheet.Supplier
	if s.IsZero() {
		return Block{}
	}
	var parts []string
	if s.Name != "" {
		parts = append(parts, "**"+escapeMD(s.Name)+"**")
	}
	if r, _ := s.Role.In(c.lang, c.sheet.Lang); r != "" {
		parts = append(parts, oneLine(r))
	}
	if p, _ := s.Procurement.In(c.lang, c.sheet.Lang); p != "" {
		parts = append(parts, oneLine(p))
	}
	if s.ContractURL != "" {
		parts = append(parts, fmt.Sprintf("[%s](%s)", c.T("Contract"), s.ContractURL))
	}
	return c.plain("supplier", strings.Join(parts, ". "))
}

// explainRisk says in words what the tier and level mean and what review they required.
func explainRisk(a risk.Result, T Translator) string {
	if a.Tier == "" {
		return ""
	}
	var parts []string
	switch a.Tier {
	case risk.Minimal:
		parts = append(parts, T("Minimal risk: the EU AI Act sets no specific obligations for this kind of system."))
	case risk.Limited:
		parts = append(parts, T("Limited risk: people must be told that they are dealing with an automated system."))
	case risk.High:
		parts = append(parts, T("High risk: it is used in an area where the EU AI Act requires risk management, human oversight, quality data and documentation."))
	case risk.Unacceptable:
		parts = append(parts, T("Unacceptable: a practice prohibited by the EU AI Act."))
	}
	if a.ExceptionClaimed {
		parts = append(parts, T("It works in a high-risk area, but the council claimed the Article 6(3) exception because it does not materially influence decisions; the ethics committee reviewed that claim."))
	}
	switch a.Level {
	case 1:
		parts = append(parts, T("Impact level I: little or no impact on people, easily reversible."))
	case 2:
		parts = append(parts, T("Impact level II: moderate impact on people, usually reversible and brief."))
	case 3:
		parts = append(parts, T("Impact level III: high impact on people, hard to reverse, or ongoing."))
	case 4:
		parts = append(parts, T("Impact level IV: very high impact on people, irreversible or lasting."))
	}
	route := T("It needed %d approval(s) from the ethics committee", a.Route.Approvals)
	if a.Route.ExpertRequired {
		route += ", " + T("at least one by an external expert")
	}
	parts = append(parts, route+".")
	return strings.Join(parts, " ")
}

// escapeMD escapes characters that would turn plain values into Markdown markup.
func escapeMD(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "`", "\\`", "#", `\#`)
	return r.Replace(s)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Render fills in each block's HTML. It is done once per (revision, language) for public
// pages, never per request.
func (d *Document) Render() {
	d.Summary.HTML = markdown.RenderInline(d.Summary.Markdown)
	for i := range d.Sections {
		for j := range d.Sections[i].Blocks {
			b := &d.Sections[i].Blocks[j]
			b.HTML = markdown.Render(b.Markdown)
		}
	}
}

// Markdown returns the whole fact sheet as one Markdown document.
func (d *Document) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", escapeMD(d.Title))
	if d.Summary.Markdown != "" {
		fmt.Fprintf(&b, "%s\n\n", d.Summary.Markdown)
	}
	for _, f := range d.Facts {
		fmt.Fprintf(&b, "- **%s:** %s\n", f.Label, escapeMD(f.Value))
	}
	for _, s := range d.Sections {
		if len(s.Blocks) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n\n", s.Title)
		if s.Intro != "" {
			fmt.Fprintf(&b, "%s\n\n", s.Intro)
		}
		for _, bl := range s.Blocks {
			fmt.Fprintf(&b, "### %s\n\n%s\n\n", bl.Label, strings.TrimSpace(bl.Markdown))
		}
	}
	return b.String()
}
