package apidoc

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/demo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update. The golden copies
// let a reviewer read the generated documents, and see in a diff what a change to the Go
// types did to them.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s changed (-golden +now); if that is intended, run go test ./internal/apidoc -update:\n%s", name, diff)
	}
}

// compile compiles the schema at pointer (a fragment, "" for the root) of doc, asserting
// formats as the register does.
func compile(t *testing.T, url string, doc []byte, pointer string) *jsonschema.Schema {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(url, v); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url + pointer)
	if err != nil {
		t.Fatalf("compile %s%s: %v", url, pointer, err)
	}
	return s
}

func validate(s *jsonschema.Schema, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

func recordSchema(t *testing.T) ([]byte, map[string]any) {
	t.Helper()
	b, err := RecordSchema(testBase)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return b, m
}

func TestRecordSchemaGolden(t *testing.T) {
	b, _ := recordSchema(t)
	golden(t, "algorithm.schema.json", b)
}

// fill sets every field of v to a non-empty value, so that encoding/json writes them all.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Now()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(1)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		if v.Type() == reflect.TypeFor[algorithms.Text]() {
			t := algorithms.Text{}
			for _, l := range algorithms.Languages {
				t[l] = "x"
			}
			v.Set(reflect.ValueOf(t))
			return
		}
		m := reflect.MakeMap(v.Type())
		val := reflect.New(v.Type().Elem()).Elem()
		fill(val)
		m.SetMapIndex(reflect.ValueOf("ca"), val)
		v.Set(m)
	}
}

// TestRecordSchemaCoversRecord asks encoding/json, not the generator, which properties a
// record has: every one it writes, at every depth, is in the schema, and the schema has no
// property it never writes. The properties a zero record still writes are the required ones.
func TestRecordSchemaCoversRecord(t *testing.T) {
	_, schema := recordSchema(t)
	var full algorithms.Record
	fill(reflect.ValueOf(&full).Elem())
	b, _ := json.Marshal(full)
	var value any
	_ = json.Unmarshal(b, &value)
	compareKeys(t, schema, schema, value, "record")

	b, _ = json.Marshal(algorithms.Record{})
	var zero map[string]any
	_ = json.Unmarshal(b, &zero)
	var always []string
	for k := range zero {
		always = append(always, k)
	}
	var required []string
	for _, k := range schema["required"].([]any) {
		required = append(required, k.(string))
	}
	sort.Strings(always)
	sort.Strings(required)
	if diff := cmp.Diff(always, required); diff != "" {
		t.Errorf("required properties (-always written +required):\n%s", diff)
	}
}

// compareKeys walks value and the schema that describes it side by side.
func compareKeys(t *testing.T, root, s map[string]any, value any, path string) {
	t.Helper()
	s = resolve(root, s)
	switch v := value.(type) {
	case map[string]any:
		props, ok := s["properties"].(map[string]any)
		if !ok {
			if ap, ok := s["additionalProperties"].(map[string]any); ok {
				for k, item := range v {
					compareKeys(t, root, ap, item, path+"."+k)
				}
			}
			return
		}
		var got, want []string
		for k := range v {
			got = append(got, k)
		}
		for k := range props {
			want = append(want, k)
		}
		sort.Strings(got)
		sort.Strings(want)
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%s: properties (-JSON +schema):\n%s", path, diff)
		}
		for k, item := range v {
			if p, ok := props[k].(map[string]any); ok {
				compareKeys(t, root, p, item, path+"."+k)
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok && len(v) > 0 {
			compareKeys(t, root, items, v[0], path+"[0]")
		}
	}
}

// resolve follows $ref, and the non-null branch of a nullable anyOf.
func resolve(root, s map[string]any) map[string]any {
	for {
		if ref, ok := s["$ref"].(string); ok && s["properties"] == nil && s["items"] == nil {
			name := strings.TrimPrefix(ref, defsRef)
			s = root["$defs"].(map[string]any)[name].(map[string]any)
			continue
		}
		if alts, ok := s["anyOf"].([]any); ok && s["properties"] == nil {
			next := s
			for _, a := range alts {
				if am := a.(map[string]any); am["type"] != "null" && am["const"] == nil {
					next = am
				}
			}
			if reflect.ValueOf(next).Pointer() != reflect.ValueOf(s).Pointer() {
				s = next
				continue
			}
		}
		return s
	}
}

// TestSchemaEnumerationsComeFromEnumsGo: every list in the schema is one of enums.go's, so
// a validation tag that drifts from enums.go shows up here.
func TestSchemaEnumerationsComeFromEnumsGo(t *testing.T) {
	_, schema := recordSchema(t)
	defs := schema["$defs"].(map[string]any)
	for name, want := range map[string][]string{
		"Domain": algorithms.Domains, "Status": algorithms.Statuses, "RiskCategory": algorithms.RiskCategories,
		"AlgorithmType": algorithms.AlgorithmTypes, "OutputType": algorithms.Types,
		"ImpactAssessmentKind": algorithms.ImpactAssessmentKinds, "SpecialCategory": algorithms.SpecialCategories,
		"Language": algorithms.Languages, "ImpactLevel": {"I", "II", "III", "IV"},
	} {
		def, ok := defs[name].(map[string]any)
		if !ok {
			t.Errorf("no $defs/%s", name)
			continue
		}
		var got []string
		for _, v := range def["enum"].([]any) {
			got = append(got, v.(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	delete(schema, "$defs")
	walk(schema, func(path string, m map[string]any) {
		if _, ok := m["enum"]; ok {
			t.Errorf("%s lists its own enumeration: a validate tag disagrees with enums.go", path)
		}
	}, "")
	for name, def := range defs {
		walk(def.(map[string]any), func(path string, m map[string]any) {
			if _, ok := m["enum"]; ok && path != "" {
				t.Errorf("$defs/%s%s lists its own enumeration", name, path)
			}
		}, "")
	}
}

func walk(m map[string]any, fn func(string, map[string]any), path string) {
	fn(path, m)
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			walk(x, fn, path+"/"+k)
		case []any:
			for i, item := range x {
				if im, ok := item.(map[string]any); ok {
					walk(im, fn, fmt.Sprintf("%s/%s/%d", path, k, i))
				}
			}
		}
	}
}

// validatorCases are fact-sheet fields with values the validator accepts or refuses.
type validatorCase struct {
	field string
	value any
	ok    bool
}

func validatorCases() []validatorCase {
	long := func(n int) string { return strings.Repeat("é", n) }
	many := func(n int) []string { return slices.Repeat([]string{"k"}, n) }
	return []validatorCase{
		{"website", "https://example.org/a?b=c#d", true}, {"website", "HTTP://EXAMPLE.ORG/", true},
		{"website", "", true}, {"website", "javascript:alert(1)", false}, {"website", "http://", false},
		{"website", "https://exa mple.org", false}, {"website", "ftp://example.org", false},
		{"website", `https://example.org/"onmouseover`, false},
		{"contact_email", "ana@example.org", true}, {"contact_email", "ana@", false}, {"contact_email", "ana", false},
		{"start_date", "2024-02-29", true}, {"start_date", "2023-02-29", false}, {"start_date", "2024-2-3", false},
		{"contact_phone", "+34 933 000 000", true}, {"contact_phone", "call me", false}, {"contact_phone", "", true},
		{"domain", "taxes", true}, {"domain", "tax", false}, {"domain", "", true},
		{"status", "pilot", true}, {"status", "beta", false},
		{"algorithm_type", "hybrid", true}, {"type", "magic", false},
		{"organization_id", strings.Repeat("x", 50), true}, {"organization_id", strings.Repeat("x", 51), false},
		{"name", map[string]string{"ca": long(200)}, true}, {"name", map[string]string{"ca": long(201)}, false},
		{"description_short", map[string]string{"ca": "x", "en": long(151)}, false},
		{"keywords", many(30), true}, {"keywords", many(31), false}, {"keywords", []string{long(61)}, false},
		{"lang", "fr", false},
		{"data_sources", []any{map[string]any{"name": map[string]string{"ca": "x"}, "special_categories": []string{"health"}}}, true},
		{"data_sources", []any{map[string]any{"special_categories": []string{"hair colour"}}}, false},
		{"data_sources", []any{map[string]any{"open_data_url": "data:text/plain,x"}}, false},
		{"impact_assessments", []any{map[string]any{"kind": "DPIA", "date": "2024-01-01", "url": "https://x.org"}}, true},
		{"impact_assessments", []any{map[string]any{"kind": "PIA"}}, false},
		{"lawful_basis_links", []any{map[string]any{"title": "Llei", "url": "mailto:a@b.example"}}, false},
		{"supplier", map[string]any{"contract_url": "https://x.org/c"}, true},
		{"supplier", map[string]any{"contract_url": "x.org/c"}, false},
	}
}

// TestSchemaAgreesWithValidator sends the same fact sheets to the store's validator and to
// the schema of a draft: both must accept or refuse each one.
func TestSchemaAgreesWithValidator(t *testing.T) {
	g := newSchemas(defsRef)
	fs, err := g.factSheet()
	if err != nil {
		t.Fatal(err)
	}
	fs.set("$defs", g.defs)
	doc, _ := marshalDocument(fs)
	schema := compile(t, "https://x.test/factsheet.json", doc, "")

	for _, c := range validatorCases() {
		sheet := map[string]any{"lang": "ca", "name": map[string]string{"ca": "Prova"}, c.field: c.value}
		b, _ := json.Marshal(sheet)
		var fs algorithms.FactSheet
		if err := json.Unmarshal(b, &fs); err != nil {
			t.Fatal(err)
		}
		validatorOK := fs.Validate() == nil
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		schemaErr := schema.Validate(inst)
		if validatorOK != c.ok || (schemaErr == nil) != c.ok {
			t.Errorf("%s = %v: validator accepts %v, schema error %v; want both to accept: %v", c.field, c.value, validatorOK, schemaErr, c.ok)
		}
	}
	// A sheet without its language is refused by both; one with only its language is accepted.
	for body, ok := range map[string]bool{`{"name": {"ca": "x"}}`: false, `{"lang": "es"}`: true} {
		var fs algorithms.FactSheet
		_ = json.Unmarshal([]byte(body), &fs)
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(body))
		if (fs.Validate() == nil) != ok || (schema.Validate(inst) == nil) != ok {
			t.Errorf("%s: want both to accept: %v", body, ok)
		}
	}
	// One deliberate difference: the store drops a language it does not know (Text.Clean)
	// where the schema refuses it, so that a client learns its text would be lost.
	b := []byte(`{"lang": "ca", "name": {"ca": "x", "fr": "y"}}`)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if schema.Validate(inst) == nil {
		t.Error("the schema accepts a language map with a language the register does not keep")
	}
}

// demoRecord is a demo entry as a published record.
func demoRecords(t *testing.T) []algorithms.Record {
	t.Helper()
	entries, err := demo.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var out []algorithms.Record
	for i, e := range entries {
		var rec algorithms.Record
		if err := json.Unmarshal(e.FactSheet, &rec.FactSheet); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(e.Risk, &rec.Assessment); err != nil {
			t.Fatal(err)
		}
		rec.UUID = fmt.Sprintf("5f0c1a2b-3c4d-4e5f-8a9b-%012d", i)
		rec.Slug, rec.Revision, rec.Latest = e.Slug, 1, true
		rec.RiskCategory, rec.ImpactLevel = algorithms.RiskCategories[i%3], []string{"I", "II", "III", "IV"}[i%4]
		rec.PublicationDate, rec.LastChangeDate = "2025-01-31", "2025-02-01"
		rec.Governance = algorithms.RecordGovernance{Decision: "approved", DecisionDate: "2025-02-01", Approvals: 2,
			Route: risk.Route{Approvals: 2, ExpertRequired: true}, Conditions: []string{"Review the model yearly."}}
		out = append(out, rec)
	}
	return out
}

// TestRecordSchemaOnRecords: every demo entry, as a published record, is valid; a record
// broken in any of several ways is not.
func TestRecordSchemaOnRecords(t *testing.T) {
	b, _ := recordSchema(t)
	schema := compile(t, testBase+RecordSchemaPath, b, "")
	recs := demoRecords(t)
	for _, rec := range recs {
		if err := validate(schema, rec); err != nil {
			t.Errorf("demo entry %s: %v", rec.Slug, err)
		}
	}
	for name, breakIt := range map[string]func(m map[string]any){
		"unknown property":       func(m map[string]any) { m["colour"] = "blue" },
		"unknown risk category":  func(m map[string]any) { m["risk_category"] = "medium risk" },
		"unsafe website":         func(m map[string]any) { m["website"] = "javascript:alert(1)" },
		"no name":                func(m map[string]any) { delete(m, "name") },
		"empty name":             func(m map[string]any) { m["name"] = map[string]any{} },
		"name in French":         func(m map[string]any) { m["name"] = map[string]any{"fr": "Nom"} },
		"not a UUID":             func(m map[string]any) { m["uuid"] = "42" },
		"date with a time":       func(m map[string]any) { m["publication_date"] = "2025-01-31T10:00:00Z" },
		"revision 0":             func(m map[string]any) { m["revision"] = 0 },
		"unknown governance key": func(m map[string]any) { m["governance"].(map[string]any)["vote"] = 3 },
	} {
		var m map[string]any
		raw, _ := json.Marshal(recs[0])
		_ = json.Unmarshal(raw, &m)
		breakIt(m)
		if err := validate(schema, m); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}
