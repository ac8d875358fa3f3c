package apidoc

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
)

// The JSON Schema of the native record is generated from the Go types at start-up, not
// written by hand: the properties come from Record's json tags (the fact sheet inline), each
// constraint from the `validate` rule the store enforces on every save, every enumeration
// from the slices in enums.go, titles and hints from labels.go. A field added to the fact
// sheet is in the schema as soon as it compiles, and a validation rule the generator does not
// know stops start-up (and the tests): the schema can be neither stale nor looser than the
// register without anyone noticing.

// Where a document keeps its named schemas.
const (
	defsRef       = "#/$defs/"
	componentsRef = "#/components/schemas/"
)

// Patterns for the rules JSON Schema has no format for. webURLPattern is what
// algorithms.IsWebURL accepts (an http or https scheme, any case; a host; no space, control
// character, <, > or "); phonePattern is the validator's own. ECMA-262 and Go read both alike.
const (
	webURLPattern = `^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7F<>"/?#][^\x00-\x20\x7F<>"]*$`
	phonePattern  = `^\+?[0-9 ()\-.]{6,20}$`
	slugPattern   = `^[a-z0-9][a-z0-9-]*$`
)

// schemas generates schemas and collects the named ones they refer to.
type schemas struct {
	ref    string  // defsRef or componentsRef
	defs   *object // name → schema, in the order first needed
	prefix map[reflect.Type]string
	inputs map[reflect.Type]bool
}

func newSchemas(ref string) *schemas {
	g := &schemas{ref: ref, defs: obj(), prefix: map[reflect.Type]string{}, inputs: map[reflect.Type]bool{}}
	// Structs that clients send (inside a fact sheet or a risk assessment) list no required
	// properties: the API accepts them with any property left out.
	g.collectInputs(reflect.TypeFor[algorithms.FactSheet]())
	g.collectInputs(reflect.TypeFor[risk.Answers]())
	g.define("Text", textSchema(0))
	return g
}

func (g *schemas) collectInputs(t reflect.Type) {
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || g.inputs[t] || t == timeType {
		return
	}
	g.inputs[t] = true
	for i := range t.NumField() {
		g.collectInputs(t.Field(i).Type)
	}
}

func (g *schemas) define(name string, s *object) *object {
	g.defs.set(name, s)
	return obj("$ref", g.ref+name)
}

func (g *schemas) refTo(name string) *object { return obj("$ref", g.ref+name) }

// Named struct types; any other struct is named after its Go type.
var structNames = map[reflect.Type]string{
	reflect.TypeFor[algorithms.RecordGovernance](): "Governance",
	reflect.TypeFor[risk.Answers]():                "RiskAnswers",
	reflect.TypeFor[risk.Route]():                  "ReviewRoute",
}

var (
	textType = reflect.TypeFor[algorithms.Text]()
	timeType = reflect.TypeFor[time.Time]()
)

// enum is a named enumeration of enums.go.
type enum struct {
	name, title string
	values      []string
}

// enumerations lists them; the impact levels are asked of the risk package, which names them.
func enumerations() []enum {
	var levels []string
	for l := 1; (risk.Result{Level: l}).LevelName() != ""; l++ {
		levels = append(levels, risk.Result{Level: l}.LevelName())
	}
	return []enum{
		{"Domain", "Policy domain", algorithms.Domains},
		{"Status", "Life-cycle stage", algorithms.Statuses},
		{"RiskCategory", "EU AI Act risk tier", algorithms.RiskCategories},
		{"ImpactLevel", "Impact level", levels},
		{"AlgorithmType", "Kind of algorithm", algorithms.AlgorithmTypes},
		{"OutputType", "Kind of output", algorithms.Types},
		{"ImpactAssessmentKind", "Kind of impact assessment", algorithms.ImpactAssessmentKinds},
		{"SpecialCategory", "Special category of personal data (GDPR Articles 9 and 10)", algorithms.SpecialCategories},
		{"Language", "Language (ISO 639-1)", algorithms.Languages},
		{"RevisionState", "State of a revision in the review workflow", algorithms.States},
	}
}

// enumRef refers to the named enumeration with exactly values, defining it on first use; a
// list that matches none is written inline (and the schema tests fail: enums.go is the
// source of every list).
func (g *schemas) enumRef(values []string) *object {
	for _, e := range enumerations() {
		if slices.Equal(e.values, values) {
			if _, ok := g.defs.get(e.name); !ok {
				g.defs.set(e.name, obj("title", e.title, "type", "string", "enum", e.values))
			}
			return g.refTo(e.name)
		}
	}
	return obj("type", "string", "enum", values)
}

// textSchema is a language map whose texts have at most limit characters (0: no limit).
func textSchema(limit int) *object {
	props := obj()
	for _, l := range algorithms.Languages {
		s := obj("type", "string")
		if limit > 0 {
			s.set("maxLength", limit)
		}
		props.set(l, s)
	}
	desc := "A language map: the text in the entry's original language (its lang) and optional translations."
	if limit > 0 {
		desc += " Each text has at most " + strconv.Itoa(limit) + " characters."
	}
	return obj("title", "Text in Catalan, Spanish and English", "description", desc,
		"type", "object", "properties", props, "additionalProperties", false)
}

// field is a struct field as JSON shows it.
type field struct {
	sf   reflect.StructField
	name string
	path string // for labels and notes: "name", "data_sources.name", "governance.route"
	// omitted: left out of the JSON when empty (omitempty, omitzero).
	omitted bool
	// filled: never empty in this view, so never null and never "".
	filled bool
}

// jsonFields lists t's fields as encoding/json writes them, embedded structs inline.
func jsonFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		switch {
		case name == "-" || !sf.IsExported():
		case sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct:
			out = append(out, jsonFields(sf.Type)...)
		default:
			out = append(out, sf)
		}
	}
	return out
}

func jsonName(sf reflect.StructField) (string, bool) {
	name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
	if name == "" {
		name = sf.Name
	}
	omitted := slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
	return name, omitted
}

// record describes algorithms.Record: the published revision as the API and the exports
// give it.
func (g *schemas) record() (*object, error) {
	sheet := map[string]bool{}
	for _, sf := range jsonFields(reflect.TypeFor[algorithms.FactSheet]()) {
		sheet[sf.Name] = true
	}
	s, err := g.object(reflect.TypeFor[algorithms.Record](), "", func(sf reflect.StructField) bool {
		// The system sets the record's own fields; of the fact sheet, what a submission needs.
		return !sheet[sf.Name] || hasRule(sf.Tag.Get("submit"), "filled") || hasRule(sf.Tag.Get("validate"), "required")
	}, func(_ reflect.StructField, omitted bool) bool { return !omitted })
	if err != nil {
		return nil, err
	}
	s.keys = append([]string{"title", "description"}, s.keys...)
	s.vals["title"] = "Published algorithm record"
	s.vals["description"] = "One published revision of an entry of the register: every fact-sheet field at the top " +
		"level (names after the Eurocities Algorithmic Transparency Standard where it has the field; free text as " +
		"language maps), the risk assessment and what it computes, and the public outcome of the ethics review."
	return s, nil
}

// factSheet describes algorithms.FactSheet as a draft holds it and a client sends it: only
// the original language is required.
func (g *schemas) factSheet() (*object, error) {
	filled := func(sf reflect.StructField) bool { return hasRule(sf.Tag.Get("validate"), "required") }
	required := func(sf reflect.StructField, _ bool) bool { return filled(sf) }
	s, err := g.object(reflect.TypeFor[algorithms.FactSheet](), "", filled, required)
	if err != nil {
		return nil, err
	}
	s.keys = append([]string{"title", "description"}, s.keys...)
	s.vals["title"] = "Fact sheet"
	s.vals["description"] = "Every field an author fills. A draft may be incomplete: a language map or list " +
		"not filled in yet is null, a text field \"\"; submission needs what GET …/draft lists under missing."
	return s, nil
}

func hasRule(tag, rule string) bool {
	for _, r := range strings.Split(tag, ",") {
		if name, _, _ := strings.Cut(r, "="); name == rule {
			return true
		}
	}
	return false
}

// object describes struct t. filled says which fields are never empty; required, which
// must be present (omitted: the JSON leaves the field out when empty).
func (g *schemas) object(t reflect.Type, prefix string, filled func(reflect.StructField) bool,
	required func(sf reflect.StructField, omitted bool) bool) (*object, error) {
	props, req := obj(), []any{}
	for _, sf := range jsonFields(t) {
		name, omitted := jsonName(sf)
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		f := field{sf: sf, name: name, path: path, omitted: omitted, filled: filled(sf)}
		p, err := g.property(f)
		if err != nil {
			return nil, err
		}
		props.set(name, p)
		if required(sf, omitted) {
			req = append(req, name)
		}
	}
	s := obj("type", "object", "properties", props)
	if len(req) > 0 {
		s.set("required", req)
	}
	return s.set("additionalProperties", false), nil
}

// property describes one field, with its title, hint and notes.
func (g *schemas) property(f field) (*object, error) {
	var rules []string
	if v := f.sf.Tag.Get("validate"); v != "" {
		rules = strings.Split(v, ",")
	}
	s, err := g.value(f.sf.Type, rules, f)
	if err != nil {
		return nil, fmt.Errorf("apidoc: field %s: %w", f.path, err)
	}
	k := f.sf.Type.Kind()
	if !f.filled && !f.omitted && (k == reflect.Map || k == reflect.Slice) {
		s = nullable(s)
	}
	g.annotate(s, f)
	return s, nil
}

// nullable lets s be null too: a nil map or slice that JSON writes as null.
func nullable(s *object) *object {
	if t, ok := s.get("type"); ok && t != "null" {
		if _, isRef := s.get("$ref"); !isRef {
			return s.set("type", []any{t, "null"})
		}
	}
	return obj("anyOf", []any{s, obj("type", "null")})
}

// value describes a value of type t under the validation rules.
func (g *schemas) value(t reflect.Type, rules []string, f field) (*object, error) {
	switch {
	case t == textType:
		return g.text(rules, f)
	case t == timeType:
		return obj("type", "string", "format", "date-time"), nil
	}
	switch t.Kind() {
	case reflect.String:
		return g.str(rules, f)
	case reflect.Bool:
		return obj("type", "boolean"), onlyRules(rules)
	case reflect.Int, reflect.Int64, reflect.Int32:
		return obj("type", "integer"), onlyRules(rules)
	case reflect.Slice:
		return g.slice(t, rules, f)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key %s", t.Key())
		}
		v, err := g.value(t.Elem(), nil, field{path: f.path})
		if err != nil {
			return nil, err
		}
		return obj("type", "object", "additionalProperties", v), onlyRules(rules)
	case reflect.Pointer:
		v, err := g.value(t.Elem(), rules, f)
		return nullable(v), err
	case reflect.Struct:
		return g.structRef(t, f)
	}
	return nil, fmt.Errorf("no schema for Go type %s", t)
}

// onlyRules accepts rules that say nothing about the value's form.
func onlyRules(rules []string, allowed ...string) error {
	for _, r := range rules {
		name, _, _ := strings.Cut(r, "=")
		if name != "omitempty" && name != "required" && !slices.Contains(allowed, name) {
			return fmt.Errorf("the generator does not know the validation rule %q here", r)
		}
	}
	return nil
}

func (g *schemas) text(rules []string, f field) (*object, error) {
	limit := 0
	for _, r := range rules {
		if name, param, _ := strings.Cut(r, "="); name == "textmax" {
			limit, _ = strconv.Atoi(param)
		}
	}
	if err := onlyRules(rules, "textmax"); err != nil {
		return nil, err
	}
	name := "Text" + strconv.Itoa(limit)
	if _, ok := g.defs.get(name); !ok {
		g.defs.set(name, textSchema(limit))
	}
	s := g.refTo(name)
	if f.filled {
		s.set("minProperties", 1)
	}
	return s, nil
}

func (g *schemas) str(rules []string, f field) (*object, error) {
	s, check := obj("type", "string"), obj()
	allowEmpty := false
	for _, r := range rules {
		name, param, _ := strings.Cut(r, "=")
		switch name {
		case "omitempty":
			allowEmpty = !f.filled
		case "required":
		case "max":
			n, err := strconv.Atoi(param)
			if err != nil {
				return nil, fmt.Errorf("rule %q", r)
			}
			s.set("maxLength", n)
		case "email":
			check.set("format", "email")
		case "weburl":
			check.set("format", "uri").set("pattern", webURLPattern)
		case "isodate":
			check.set("format", "date")
		case "phone":
			check.set("pattern", phonePattern)
		case "domain":
			check = g.enumRef(algorithms.Domains)
		case "specialcategory":
			check = g.enumRef(algorithms.SpecialCategories)
		case "oneof":
			check = g.enumRef(strings.Fields(param))
		default:
			return nil, fmt.Errorf("the generator does not know the validation rule %q", r)
		}
	}
	switch {
	case len(check.keys) == 0:
		if f.filled {
			s.set("minLength", 1)
		}
	case allowEmpty:
		// Saved with the field empty: "" or a valid value.
		s.set("anyOf", []any{obj("const", ""), check})
	default:
		for _, k := range check.keys {
			s.set(k, check.vals[k])
		}
	}
	return s, nil
}

// slice describes a list: the rules before "dive" apply to the list, those after to each item.
func (g *schemas) slice(t reflect.Type, rules []string, f field) (*object, error) {
	var own, items []string
	if i := slices.Index(rules, "dive"); i >= 0 {
		own, items = rules[:i], rules[i+1:]
	} else {
		own = rules
	}
	item, err := g.value(t.Elem(), items, field{path: f.path})
	if err != nil {
		return nil, err
	}
	s := obj("type", "array", "items", item)
	for _, r := range own {
		if name, param, _ := strings.Cut(r, "="); name == "max" {
			n, err := strconv.Atoi(param)
			if err != nil {
				return nil, fmt.Errorf("rule %q", r)
			}
			s.set("maxItems", n)
		}
	}
	return s, onlyRules(own, "max")
}

// structRef refers to the named schema of struct t, defining it on first use.
func (g *schemas) structRef(t reflect.Type, f field) (*object, error) {
	name, ok := structNames[t]
	if !ok {
		name = t.Name()
	}
	if _, done := g.defs.get(name); !done {
		g.defs.set(name, obj()) // reserved, against recursion
		// What clients send lists no required property: the API accepts any left out.
		s, err := g.object(t, f.path, func(reflect.StructField) bool { return false },
			func(_ reflect.StructField, omitted bool) bool { return !g.inputs[t] && !omitted })
		if err != nil {
			return nil, err
		}
		if label, ok := algorithms.FieldLabels[f.path]; ok {
			s.keys = append([]string{"title"}, s.keys...)
			s.vals["title"] = label
		}
		g.defs.set(name, s)
	}
	return g.refTo(name), nil
}
