package opendata_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/opendata"
)

func definitions(t *testing.T) *risk.Definitions {
	t.Helper()
	defs, err := risk.Load()
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

func parse(t *testing.T, name string, data []byte) *opendata.Import {
	t.Helper()
	imp, err := opendata.Parse(name, data, definitions(t))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return imp
}

// sheetValue returns the fact-sheet field whose JSON name is name.
func sheetValue(s *algorithms.FactSheet, name string) reflect.Value {
	v := reflect.ValueOf(s).Elem()
	for i := range v.NumField() {
		if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ","); tag == name {
			return v.Field(i)
		}
	}
	panic("no fact-sheet field " + name)
}

// TestImportNativeFormats reads the demo's native export in its three formats: JSON and
// NDJSON give the same drafts, each the record's fact sheet, slug and risk answers with the
// system's fields reported; the CSV gives the same fact sheets but no risk answers.
func TestImportNativeFormats(t *testing.T) {
	reg := newRegister(t)
	var records []algorithms.Record
	if err := json.Unmarshal(reg.export(t, opendata.JSON, false), &records); err != nil {
		t.Fatal(err)
	}
	fromJSON := parse(t, "export.json", reg.export(t, opendata.JSON, false))
	fromNDJSON := parse(t, "export.ndjson", reg.export(t, opendata.NDJSON, false))
	fromCSV := parse(t, "export.csv", reg.export(t, opendata.CSV, false))
	if fromJSON.Source != opendata.SourceNative || fromCSV.Source != opendata.SourceNative || fromNDJSON.Format != "NDJSON" {
		t.Errorf("sources: %s %s, %s %s, %s %s", fromJSON.Source, fromJSON.Format, fromNDJSON.Source, fromNDJSON.Format, fromCSV.Source, fromCSV.Format)
	}
	if len(fromJSON.Drafts) != len(records) || len(records) != reg.entries(false) {
		t.Fatalf("%d drafts from %d records, want %d", len(fromJSON.Drafts), len(records), reg.entries(false))
	}
	for i, d := range fromJSON.Drafts {
		rec := records[i]
		if d.Slug != rec.Slug {
			t.Errorf("draft %d: slug %q, want %q", i, d.Slug, rec.Slug)
		}
		if diff := cmp.Diff(rec.FactSheet, d.Sheet, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: fact sheet (-want +got):\n%s", rec.Slug, diff)
		}
		if d.Answers == nil || !reflect.DeepEqual(*d.Answers, rec.Assessment) {
			t.Errorf("%s: risk answers %+v, want %+v", rec.Slug, d.Answers, rec.Assessment)
		}
		want := []opendata.Skipped{{"governance", "the outcome of the ethics review: the draft has not been reviewed"},
			{"impact_level", "computed from the risk assessment"}, {"last_change_date", "set by the system"},
			{"latest", "set by the system"}, {"publication_date", "set by the system"}, {"retired", "set by the system"},
			{"revision", "set by the system"}, {"risk_category", "computed from the risk assessment"}, {"uuid", "set by the system"}}
		if diff := cmp.Diff(want, d.Skipped); diff != "" {
			t.Errorf("%s: skipped (-want +got):\n%s", rec.Slug, diff)
		}
		if len(d.Notes) != 0 {
			t.Errorf("%s: notes %v", rec.Slug, d.Notes)
		}
	}
	if diff := cmp.Diff(fromJSON.Drafts, fromNDJSON.Drafts, cmpopts.IgnoreFields(opendata.Draft{}, "Source"), cmpopts.IgnoreUnexported(opendata.Draft{})); diff != "" {
		t.Errorf("NDJSON drafts differ from JSON (-json +ndjson):\n%s", diff)
	}
	for i, d := range fromCSV.Drafts {
		if diff := cmp.Diff(fromJSON.Drafts[i].Sheet, d.Sheet, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: CSV fact sheet (-json +csv):\n%s", d.Slug, diff)
		}
		if d.Answers != nil || d.Slug != fromJSON.Drafts[i].Slug || len(d.Notes) != 1 || d.Notes[0].Field != "risk_assessment" {
			t.Errorf("%s: CSV draft: answers %v, slug %q, notes %v", d.Source, d.Answers, d.Slug, d.Notes)
		}
	}
}

// standardTexts are the fields whose original-language text the Eurocities export carries,
// directly or folded into another attribute.
var standardTexts = []string{"name", "organization", "department", "description_short", "remark", "end_reason",
	"decision_making_process", "area", "goal", "impact", "risks", "mitigations", "proportionality", "lawful_basis",
	"training_data", "source_data", "data_bias", "connected_data_sources", "description", "methods_and_models",
	"performance", "alternatives_considered", "monitoring", "human_intervention", "objection_procedure", "rollback", "revision_note"}

var standardStrings = []string{"contact_email", "contact_phone", "contact_name", "website", "domain", "documentation",
	"algorithm_type", "product_information", "codebase_url", "product_page", "type"}

// TestImportEurocities reads the demo's Eurocities export: each entry's texts come back in
// their original language, each into its own field (what the projection folded into risks
// and remark is unfolded), the DPIA and AIA (or FRIA) become assessment rows, and the
// system's attributes are reported.
func TestImportEurocities(t *testing.T) {
	reg := newRegister(t)
	var records []algorithms.Record
	if err := json.Unmarshal(reg.export(t, opendata.JSON, false), &records); err != nil {
		t.Fatal(err)
	}
	imp := parse(t, "eurocities.json", reg.export(t, opendata.Eurocities, false))
	if imp.Source != opendata.SourceEurocities || len(imp.Drafts) != len(records) {
		t.Fatalf("%s with %d drafts, want %d", imp.Source, len(imp.Drafts), len(records))
	}
	unfolded := 0
	for i, d := range imp.Drafts {
		rec, got := records[i], &imp.Drafts[i].Sheet
		lang := rec.Lang
		if got.Lang != lang || d.Slug != "" {
			t.Errorf("%s: lang %q slug %q", rec.Slug, got.Lang, d.Slug)
		}
		for _, name := range standardTexts {
			want, _ := sheetValue(&rec.FactSheet, name).Interface().(algorithms.Text).In(lang, algorithms.Languages...)
			if g := sheetValue(got, name).Interface().(algorithms.Text)[lang]; g != want {
				t.Errorf("%s: %s = %q, want %q", rec.Slug, name, g, want)
			}
		}
		for _, name := range standardStrings {
			if w, g := sheetValue(&rec.FactSheet, name).String(), sheetValue(got, name).String(); g != w {
				t.Errorf("%s: %s = %q, want %q", rec.Slug, name, g, w)
			}
		}
		if !slices.Equal(got.Keywords, rec.Keywords) {
			t.Errorf("%s: keywords %q, want %q", rec.Slug, got.Keywords, rec.Keywords)
		}
		if !rec.Mitigations.Empty() || !rec.EndReason.Empty() {
			unfolded++
		}
		for _, a := range got.ImpactAssessments {
			i := slices.IndexFunc(rec.ImpactAssessments, func(x algorithms.ImpactAssessment) bool { return x.Kind == a.Kind })
			if i < 0 || rec.ImpactAssessments[i].URL != a.URL {
				t.Errorf("%s: assessment %s %q not in the record's %+v", rec.Slug, a.Kind, a.URL, rec.ImpactAssessments)
			}
		}
		var skipped []string
		for _, s := range d.Skipped {
			skipped = append(skipped, s.Field+": "+s.Reason)
		}
		want := []string{"country: the same for every entry of this register", "last_change_date: set by the system",
			"publication_date: set by the system", "risk_category: computed from the risk assessment",
			"standard_version: set by the system", "uuid: set by the system"}
		if diff := cmp.Diff(want, skipped); diff != "" {
			t.Errorf("%s: skipped (-want +got):\n%s", rec.Slug, diff)
		}
	}
	if unfolded == 0 {
		t.Error("no demo entry has mitigations or a reason for ending: the unfolding is untested")
	}

	// The same objects as a CSV with the standard's attribute names give the same drafts.
	var objects []map[string]string
	if err := json.Unmarshal(reg.export(t, opendata.Eurocities, false), &objects); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := sortedNames(objects)
	rows := [][]string{header}
	for _, o := range objects {
		row := make([]string, len(header))
		for i, h := range header {
			row[i] = o[h]
		}
		rows = append(rows, row)
	}
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	fromCSV := parse(t, "eurocities.csv", buf.Bytes())
	if diff := cmp.Diff(imp.Drafts, fromCSV.Drafts, cmpopts.IgnoreFields(opendata.Draft{}, "Source"), cmpopts.IgnoreUnexported(opendata.Draft{})); diff != "" {
		t.Errorf("drafts from the CSV (-json +csv):\n%s", diff)
	}
}

func sortedNames(objects []map[string]string) []string {
	seen := map[string]bool{}
	var names []string
	for _, o := range objects {
		for k := range o {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	slices.Sort(names)
	return names
}

// TestImportEurocitiesReports checks what a rough Eurocities object gives: values that are
// not text, attributes the standard does not have and a bad address are reported; a FRIA
// folded into AIA_description becomes a FRIA row again.
func TestImportEurocitiesReports(t *testing.T) {
	data := `[{"standard_version": "0.3.1", "lang": "es", "name": "Prueba", "keywords": ["a", "b"], "colour": "blue",
		"DPIA_description": "Hecha en 2024.", "DPIA_url": "ftp://dpia.example/1", "AIA_description": "FRIA: Sin riesgos graves.",
		"risks": "Pocos.\n\nMedidas de mitigación:\n\nRevisión humana.", "remark": "Motivo de la retirada:\n\nSustituido."}]`
	d := parse(t, "eurocities.json", []byte(data)).Drafts[0]
	want := []opendata.Skipped{{"keywords", "not a text, as the standard wants every attribute"},
		{"colour", "not an attribute of the Eurocities standard 0.3.1"}, {"standard_version", "set by the system"},
		{"DPIA_url", "Enter a web address that starts with https:// or http://."}}
	if diff := cmp.Diff(want, d.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	wantRows := []algorithms.ImpactAssessment{
		{Kind: "DPIA", Done: true, Summary: algorithms.Text{"es": "Hecha en 2024."}},
		{Kind: "FRIA", Done: true, Summary: algorithms.Text{"es": "Sin riesgos graves."}},
	}
	if diff := cmp.Diff(wantRows, d.Sheet.ImpactAssessments); diff != "" {
		t.Errorf("assessments (-want +got):\n%s", diff)
	}
	s := d.Sheet
	if s.Risks["es"] != "Pocos." || s.Mitigations["es"] != "Revisión humana." || s.Remark != nil || s.EndReason["es"] != "Sustituido." {
		t.Errorf("unfolded: risks %q, mitigations %q, remark %q, end_reason %q", s.Risks, s.Mitigations, s.Remark, s.EndReason)
	}
	if len(d.Notes) != 2 || d.Notes[1].Field != "AIA_description" {
		t.Errorf("notes: %v", d.Notes)
	}
}

// TestImportModelCard maps a realistic Hugging Face model card: name, keywords, data
// sources, texts of the template's sections and the results table are imported; nothing
// the card does not say is filled in, and every key and section left out is reported.
func TestImportModelCard(t *testing.T) {
	data, err := os.ReadFile("testdata/model-card-catalan-classifier.md")
	if err != nil {
		t.Fatal(err)
	}
	imp := parse(t, "README.md", data)
	if imp.Source != opendata.SourceModelCard || len(imp.Drafts) != 1 {
		t.Fatalf("%s, %d drafts", imp.Source, len(imp.Drafts))
	}
	d := imp.Drafts[0]
	s := &d.Sheet
	var filled []string
	for _, f := range algorithms.Fields {
		if !sheetValue(s, f.Name).IsZero() {
			filled = append(filled, f.Name)
		}
	}
	want := []string{"name", "keywords", "remark", "training_data", "data_sources", "algorithm_type", "description",
		"methods_and_models", "performance", "risks", "lang"}
	if diff := cmp.Diff(want, filled); diff != "" {
		t.Errorf("filled fields (-want +got):\n%s", diff)
	}
	en := func(t algorithms.Text) string { return t["en"] }
	checks := []struct {
		field, got string
		contains   []string
		not        []string
	}{
		{"name", en(s.Name), []string{"roberta-base-ca-v2-iris-peticions"}, []string{"Model Card"}},
		{"remark", en(s.Remark), []string{"Licence of the model: apache-2.0."}, nil},
		{"description", en(s.Description), []string{"sorts citizen requests", "### Model Description", "fine-tuned for sequence classification", "**Developed by:** Data Office"},
			[]string{"<!--", "More Information Needed", "Repository:"}},
		{"training_data", en(s.TrainingData), []string{"84,312 requests received through IRIS"}, []string{"from transformers import", "###"}},
		{"methods_and_models", en(s.MethodsAndModels), []string{"- Base model: projecte-aina/roberta-base-ca-v2", "- Library: transformers",
			"### Preprocessing\n\nTexts were neither", "### Training Hyperparameters", "learning_rate: 2e-05"}, []string{"Speeds, Sizes", "[optional]"}},
		{"performance", en(s.Performance), []string{"| Task | Dataset | Split | Metric | Value |",
			"| Text Classification | IRIS peticions 2023 | test | Accuracy | 0.8712 |",
			"| Text Classification | IRIS peticions 2023 | test | F1 (macro) | 0.8634 |",
			"| Text Classification | TeCla | test | Accuracy | 0.7426 |",
			"### Testing Data", "10,539 requests", "### Metrics", "### Results\n\nAccuracy 0.871 and macro F1 0.863"}, nil},
		{"risks", en(s.Risks), []string{"Requests written in Spanish", "### Recommendations", "Keep a person in the loop"}, nil},
	}
	for _, c := range checks {
		for _, w := range c.contains {
			if !strings.Contains(c.got, w) {
				t.Errorf("%s lacks %q:\n%s", c.field, w, c.got)
			}
		}
		for _, w := range c.not {
			if strings.Contains(c.got, w) {
				t.Errorf("%s holds %q:\n%s", c.field, w, c.got)
			}
		}
	}
	if want := []string{"catalan", "text-classification", "roberta", "public-administration"}; !slices.Equal(s.Keywords, want) {
		t.Errorf("keywords %q, want %q", s.Keywords, want)
	}
	wantSources := []algorithms.DataSource{{Name: algorithms.Text{"en": "projecte-aina/tecla"}}, {Name: algorithms.Text{"en": "ajuntament-bcn/iris-peticions-2023"}}}
	if diff := cmp.Diff(wantSources, s.DataSources); diff != "" {
		t.Errorf("data sources (-want +got):\n%s", diff)
	}
	if s.AlgorithmType != "self-learning" || s.Type != "" || s.Lang != "en" || d.Answers != nil {
		t.Errorf("algorithm_type %q, type %q, lang %q, answers %v", s.AlgorithmType, s.Type, s.Lang, d.Answers)
	}
	var skipped []string
	for _, x := range d.Skipped {
		skipped = append(skipped, x.Field)
	}
	wantSkipped := []string{"co2_eq_emissions", "language", "widget", "### Model Sources [optional]", "### Direct Use",
		"### Out-of-Scope Use", "## How to Get Started with the Model", "## Environmental Impact", "## Citation [optional]", "## Model Card Contact"}
	if diff := cmp.Diff(wantSkipped, skipped); diff != "" {
		t.Errorf("reported as not imported (-want +got):\n%s", diff)
	}
	var notes []string
	for _, x := range d.Notes {
		notes = append(notes, x.Field)
	}
	if diff := cmp.Diff([]string{"lang", "pipeline_tag"}, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("the draft is not well-formed: %v", err)
	}
}

// TestImportDropsInvalidValues checks that a value breaking its field's rule is dropped from
// that field only, and reported, so that the draft is still created well-formed.
func TestImportDropsInvalidValues(t *testing.T) {
	long := strings.Repeat("x", 151)
	record := map[string]any{
		"slug": "prova", "lang": "ca", "colour": "blue",
		"name":              map[string]string{"ca": "Prova", "xx": "dropped: not a language"},
		"description_short": map[string]string{"ca": "Curta.", "en": long},
		"website":           "javascript:alert(1)",
		"contact_email":     "not an address",
		"goal":              42,
		"status":            "finished",
		"keywords":          []string{"bo", strings.Repeat("k", 61)},
		"data_sources": []map[string]any{{"name": map[string]string{"ca": "Padró"}, "open_data_url": "ftp://dades.example/padro",
			"special_categories": []string{"health", "favourite colour"}}},
		"risk_assessment": map[string]any{"checklist_version": "eu-ai-act-0", "checklist": map[string]bool{"no_such_question": true},
			"impact": map[string]string{}},
	}
	data, err := json.Marshal([]any{record})
	if err != nil {
		t.Fatal(err)
	}
	d := parse(t, "export.json", data).Drafts[0]
	want := []opendata.Skipped{
		{"colour", "not a field of the register's records"},
		{"goal", `not in the expected form (a language map {"ca": …, "es": …, "en": …})`},
		{"name", `text in "xx": the register holds text in ca, es, en`},
		{"contact_email", "Enter a valid e-mail address, like name@example.org."},
		{"data_sources.0.open_data_url", "Enter a web address that starts with https:// or http://."},
		{"data_sources.0.special_categories", `Choose one of the options. (dropped "favourite colour")`},
		{"description_short", "Use at most 150 characters. (dropped the text in en)"},
		{"keywords", `Each item may have at most 60 characters. (dropped "` + strings.Repeat("k", 61) + `")`},
		{"status", "Choose one of the options."},
		{"website", "Enter a web address that starts with https:// or http://."},
		{"risk_assessment.checklist.no_such_question", "no such question in the checklist"},
	}
	if diff := cmp.Diff(want, d.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	s := d.Sheet
	if s.Website != "" || s.ContactEmail != "" || s.Status != "" || s.DescriptionShort["ca"] != "Curta." || s.DescriptionShort["en"] != "" ||
		!slices.Equal(s.Keywords, []string{"bo"}) || s.DataSources[0].OpenDataURL != "" ||
		!slices.Equal(s.DataSources[0].SpecialCategories, []string{"health"}) || len(s.Name) != 1 {
		t.Errorf("sheet after dropping: %+v", s)
	}
	if d.Answers != nil {
		t.Errorf("answers to no known question kept: %+v", d.Answers)
	}
	if len(d.Notes) != 1 || !strings.Contains(d.Notes[0].Reason, "answered version eu-ai-act-0") {
		t.Errorf("notes: %v", d.Notes)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("still invalid: %v", err)
	}
}

// TestImportRefusesBadFiles checks that a file that is not an import file, or is malformed
// anywhere, is refused as a whole with a message that says why and where.
func TestImportRefusesBadFiles(t *testing.T) {
	record := func(name, lang string) string {
		return `{"slug": "s", "lang": "` + lang + `", "name": {"` + lang + `": "` + name + `"}}`
	}
	tests := []struct {
		name, file, data, want string
	}{
		{"empty", "export.json", "  \n", "the file is empty"},
		{"binary", "photo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an import file"},
		{"prose", "notes.txt", "Dear committee, please find attached our algorithm.\n", "not an import file"},
		{"markdown without front matter", "README.md", "# My model\n\nIt classifies.\n", "opens with YAML front matter"},
		{"empty array", "export.json", "[]", "holds no entries"},
		{"broken halfway", "export.json", "[" + record("A", "ca") + ",\n" + record("B", "ca") + ",\n{\"slug\": \"c\", \"lang\": }]", "not valid JSON (line 3)"},
		{"bad NDJSON line", "export.ndjson", record("A", "ca") + "\n" + record("B", "ca") + "\n{oops\n", "line 3: not a JSON object"},
		{"not objects", "export.json", `["a", "b"]`, "record 1: not a JSON object"},
		{"neither kind", "export.json", `[{"title": "x"}]`, "neither a native record"},
		{"mixed kinds", "export.json", "[" + record("A", "ca") + `, {"standard_version": "0.3.1", "name": "B", "lang": "ca"}]`, "record 2: a Eurocities export in a file of native exports"},
		{"language not held", "export.json", "[" + record("A", "ca") + ", " + record("B", "nl") + "]", `record 2: lang "nl"`},
		{"no name", "export.json", "[" + record("A", "ca") + `, {"slug": "b", "lang": "es", "name": {"ca": "B"}}]`, "record 2: no name in the entry's language (es)"},
		{"every revision", "export.ndjson", `{"uuid": "u1", "slug": "a", "lang": "ca", "name": {"ca": "A"}, "revision": 1}` + "\n" +
			`{"uuid": "u1", "slug": "a", "lang": "ca", "name": {"ca": "A"}, "revision": 2}`, "line 2: another revision of the entry in line 1"},
		{"no language", "eurocities.json", `[{"standard_version": "0.3.1", "name": "A"}]`, "record 1: no lang"},
		{"CSV row too short", "export.csv", "slug,lang,name_ca\na,ca,A\nb,ca\n", "not valid CSV"},
		{"CSV of something else", "people.csv", "first name,last name\nLaia,Puig\n", "not an import file"},
		{"unclosed front matter", "README.md", "---\nlicense: mit\n# Model\n", "no closing --- line"},
		{"bad YAML", "README.md", "---\nlicense: [mit\n---\n# Model\n", "model card front matter: yaml:"},
		{"nameless card", "README.md", "---\nlicense: mit\n---\nSome text.\n", "names no model"},
	}
	defs := definitions(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imp, err := opendata.Parse(tt.file, []byte(tt.data), defs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
			if imp != nil {
				t.Errorf("a refused file gave drafts: %+v", imp)
			}
		})
	}
}
