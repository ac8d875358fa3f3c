package opendata_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/opendata"
)

// compileSchema compiles the shipped schema, asserting formats (uri, email, uuid, date).
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(opendata.EurocitiesSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://registry.test/api/v1/schema/eurocities.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return sch
}

// checkEurocities validates every object of the demo's Eurocities export against the schema
// and checks that each is the projection of its native record.
func checkEurocities(t *testing.T, reg *register) {
	sch := compileSchema(t)
	var natives []algorithms.Record
	if err := json.Unmarshal(reg.export(t, opendata.JSON, false), &natives); err != nil {
		t.Fatal(err)
	}
	out := reg.export(t, opendata.Eurocities, false)
	list, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("eurocities export does not parse: %v", err)
	}
	objects, _ := list.([]any)
	if len(objects) != len(natives) || len(objects) != reg.entries(false) {
		t.Fatalf("eurocities export has %d objects, want %d", len(objects), reg.entries(false))
	}
	for i, o := range objects {
		obj := o.(map[string]any)
		if err := sch.Validate(obj); err != nil {
			t.Errorf("%s does not meet the schema: %v", natives[i].Slug, err)
		}
		for k, v := range obj {
			if v == "" {
				t.Errorf("%s: %s sent as an empty string", natives[i].Slug, k)
			}
		}
		n := natives[i]
		if obj["uuid"] != n.UUID || obj["lang"] != n.Lang || obj["name"] != n.Name[n.Lang] ||
			obj["description"] != n.Description[n.Lang] || obj["last_change_date"] != n.LastChangeDate {
			t.Errorf("%s: not the projection of its record: %v", n.Slug, obj["uuid"])
		}
	}
	if !strings.Contains(string(out), `"status": "retired"`) && !strings.Contains(string(out), `"status":"retired"`) {
		t.Error("the retired demo entry is not marked retired")
	}
}

// TestSchemaMatchesProjection keeps the shipped schema and the Go type in step: the same
// attributes in the same order, required exactly where the type never omits a value, and
// the enumerations of the algorithms package.
func TestSchemaMatchesProjection(t *testing.T) {
	var schema struct {
		Required   []string `json:"required"`
		Additional *bool    `json:"additionalProperties"`
		Properties map[string]struct {
			Enum  []string `json:"enum"`
			Const string   `json:"const"`
		} `json:"properties"`
	}
	raw := opendata.EurocitiesSchema()
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Additional == nil || *schema.Additional {
		t.Error("additionalProperties must be false")
	}
	var names, required []string
	typ := reflect.TypeFor[opendata.EurocitiesEntry]()
	for i := range typ.NumField() {
		name, opts, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
		if opts != "omitempty" {
			required = append(required, name)
		}
	}
	if len(names) != 50 {
		t.Errorf("%d attributes, want the standard's 50", len(names))
	}
	if diff := cmp.Diff(names, propertyOrder(t, raw)); diff != "" {
		t.Errorf("schema properties differ from EurocitiesEntry (-type +schema):\n%s", diff)
	}
	slices.Sort(required)
	got := slices.Sorted(slices.Values(schema.Required))
	if diff := cmp.Diff(required, got); diff != "" {
		t.Errorf("required differs from the attributes without omitempty (-type +schema):\n%s", diff)
	}
	for name, want := range map[string][]string{"domain": algorithms.Domains, "status": algorithms.Statuses,
		"risk_category": algorithms.RiskCategories, "algorithm_type": algorithms.AlgorithmTypes, "type": algorithms.Types} {
		if diff := cmp.Diff(want, schema.Properties[name].Enum); diff != "" {
			t.Errorf("%s enumeration (-algorithms +schema):\n%s", name, diff)
		}
	}
	if schema.Properties["standard_version"].Const != opendata.StandardVersion {
		t.Errorf("standard_version const = %q", schema.Properties["standard_version"].Const)
	}
}

// propertyOrder reads the names of the schema's properties in document order.
func propertyOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	var doc struct {
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(doc.Properties))
	var names []string
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// validProjection validates e against the schema and returns it as decoded JSON.
func validProjection(t *testing.T, sch *jsonschema.Schema, e *opendata.EurocitiesEntry) map[string]any {
	t.Helper()
	b, _ := json.Marshal(e)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("projection does not meet the schema: %v", err)
	}
	return v.(map[string]any)
}

// TestProjectLanguageAndDefaults: text in the original language (another only when it is
// missing there), the system's defaults, and empty optional attributes left out.
func TestProjectLanguageAndDefaults(t *testing.T) {
	rec := sampleRecord()
	rec.Lang = "es"
	rec.Name = algorithms.Text{"ca": "Nom", "es": "Nombre"}
	rec.Goal = algorithms.Text{"ca": "Només en català"} // no Spanish: the original is missing
	rec.RevisionDate, rec.Remark, rec.Website, rec.ContactName = "", nil, "", ""
	rec.LastChangeDate = "2024-02-29"
	e := validProjection(t, compileSchema(t), opendata.Project(rec))
	want := map[string]any{"name": "Nombre", "goal": "Només en català", "country": "España", "lang": "es",
		"revision_date": "2025-03-01", "standard_version": "0.3.1"}
	for k, v := range want {
		if e[k] != v {
			t.Errorf("%s = %v, want %v", k, e[k], v)
		}
	}
	for _, k := range []string{"remark", "website", "contact_name"} {
		if _, ok := e[k]; ok {
			t.Errorf("empty optional %s was sent", k)
		}
	}
}

// TestSchemaRefuses: the schema is strict enough to catch a broken projection.
func TestSchemaRefuses(t *testing.T) {
	sch := compileSchema(t)
	for name, spoil := range map[string]func(*opendata.EurocitiesEntry){
		"ftp address":       func(e *opendata.EurocitiesEntry) { e.Website = "ftp://example.org/x" },
		"missing name":      func(e *opendata.EurocitiesEntry) { e.Name = "" },
		"unknown domain":    func(e *opendata.EurocitiesEntry) { e.Domain = "sports" },
		"bad date":          func(e *opendata.EurocitiesEntry) { e.RevisionDate = "31/12/2026" },
		"bad e-mail":        func(e *opendata.EurocitiesEntry) { e.ContactEmail = "nobody" },
		"other version":     func(e *opendata.EurocitiesEntry) { e.StandardVersion = "0.3" },
		"short description": func(e *opendata.EurocitiesEntry) { e.Description = "Too short." },
	} {
		e := opendata.Project(sampleRecord())
		spoil(e)
		b, _ := json.Marshal(e)
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err := sch.Validate(v); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var extra map[string]any
	b, _ := json.Marshal(opendata.Project(sampleRecord()))
	_ = json.Unmarshal(b, &extra)
	extra["organization_id"] = "L01080193"
	if err := sch.Validate(extra); err == nil {
		t.Error("an attribute outside the standard was accepted")
	}
}

// TestProjectAssessments: DPIA_* and AIA_* come from the impact assessments, a FRIA
// standing in for an AIA.
func TestProjectAssessments(t *testing.T) {
	rec := sampleRecord()
	rec.ImpactAssessments = []algorithms.ImpactAssessment{
		{Kind: "FRIA", Done: true, Summary: algorithms.Text{"ca": "Drets revisats."}, URL: "https://example.org/fria"},
		{Kind: "DPIA", Done: false, ReasonNotDone: algorithms.Text{"ca": "Sense dades personals."}},
	}
	e := opendata.Project(rec)
	if e.DPIADescription != "Sense dades personals." || e.DPIAURL != "" {
		t.Errorf("DPIA = %q %q", e.DPIADescription, e.DPIAURL)
	}
	if e.AIADescription != "FRIA: Drets revisats." || e.AIAURL != "https://example.org/fria" {
		t.Errorf("AIA from FRIA = %q %q", e.AIADescription, e.AIAURL)
	}
	rec.ImpactAssessments = append(rec.ImpactAssessments, algorithms.ImpactAssessment{Kind: "AIA", Done: true,
		Summary: algorithms.Text{"ca": "AIIA feta."}, URL: "https://example.org/aia"})
	if e := opendata.Project(rec); e.AIADescription != "AIIA feta." || e.AIAURL != "https://example.org/aia" {
		t.Errorf("AIA = %q %q", e.AIADescription, e.AIAURL)
	}
	validProjection(t, compileSchema(t), opendata.Project(rec))
}

// TestProjectFolds: fields the standard lacks are folded where its descriptions ask for
// them; a retired entry is "retired"; keywords become one string.
func TestProjectFolds(t *testing.T) {
	rec := sampleRecord()
	rec.Risks = algorithms.Text{"ca": "Biaix."}
	rec.Mitigations = algorithms.Text{"ca": "Revisió humana."}
	rec.Remark = nil
	rec.EndReason = algorithms.Text{"ca": "Substituït."}
	rec.Status, rec.Retired = "operational", true
	rec.Keywords = []string{"energia", "ajuts"}
	e := validProjection(t, compileSchema(t), opendata.Project(rec))
	if e["risks"] != "Biaix.\n\nMesures de mitigació:\n\nRevisió humana." {
		t.Errorf("risks = %q", e["risks"])
	}
	if e["remark"] != "Motiu de la retirada:\n\nSubstituït." || e["status"] != "retired" || e["keywords"] != "energia, ajuts" {
		t.Errorf("remark %q, status %q, keywords %q", e["remark"], e["status"], e["keywords"])
	}
}

// sampleRecord is a published record built from the first demo entry.
func sampleRecord() *algorithms.Record {
	entries, err := demo.Entries()
	if err != nil {
		panic(err)
	}
	rec := &algorithms.Record{UUID: "0b3f6b1e-7c2a-4f51-9f5c-2f2a9d1b7e10", Slug: entries[0].Slug, Revision: 1,
		RiskCategory: "high risk", ImpactLevel: "III", PublicationDate: "2025-01-15", LastChangeDate: "2025-01-15", Latest: true}
	if err := json.Unmarshal(entries[0].FactSheet, &rec.FactSheet); err != nil {
		panic(err)
	}
	return rec
}

// sliceSource serves records from memory, for tests of the encoders alone.
type sliceSource []*algorithms.Record

func (s sliceSource) EachPublished(_ context.Context, _ algorithms.EachOptions, fn func(*algorithms.Record) error) error {
	for _, r := range s {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func records(recs ...*algorithms.Record) sliceSource { return recs }

// failing fails after a number of records, as a dropped database connection would.
type failing struct {
	err   error
	after int
}

func (f failing) EachPublished(_ context.Context, _ algorithms.EachOptions, fn func(*algorithms.Record) error) error {
	for range f.after {
		if err := fn(sampleRecord()); err != nil {
			return err
		}
	}
	return f.err
}
