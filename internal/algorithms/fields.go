package algorithms

import (
	"reflect"
	"sort"
	"strings"
)

// Kind says how a field is entered and shown.
type Kind string

// The kinds of field.
const (
	KindText     Kind = "text"     // a short language map
	KindMarkdown Kind = "markdown" // a long language map, Markdown
	KindString   Kind = "string"
	KindURL      Kind = "url"
	KindEmail    Kind = "email"
	KindDate     Kind = "date"
	KindEnum     Kind = "enum"
	KindList     Kind = "list" // keywords: a comma-separated list
	KindLang     Kind = "lang"
	KindRows     Kind = "rows"   // repeatable structured rows
	KindStruct   Kind = "struct" // the supplier
)

// FieldSpec describes one fact-sheet field, read once from FactSheet's struct tags, so that
// forms, the missing list and the fact sheet follow the struct without a second list to
// keep in step.
type FieldSpec struct {
	Name     string // JSON name, also the form name
	Section  string
	Kind     Kind
	Required bool
	Options  []string // for enumerations
	index    int
}

// Fields lists every field of FactSheet in order.
var Fields = specs()

// FieldByName returns the spec of a field.
func FieldByName(name string) (FieldSpec, bool) {
	for _, f := range Fields {
		if f.Name == name {
			return f, true
		}
	}
	return FieldSpec{}, false
}

// SectionFields returns the fields of a section in order.
func SectionFields(section string) []FieldSpec {
	var out []FieldSpec
	for _, f := range Fields {
		if f.Section == section {
			out = append(out, f)
		}
	}
	return out
}

var enumOptions = map[string][]string{
	"domain": Domains, "status": Statuses, "algorithm_type": AlgorithmTypes, "type": Types, "lang": Languages,
}

func specs() []FieldSpec {
	t := reflect.TypeOf(FactSheet{})
	var out []FieldSpec
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		s := FieldSpec{Name: name, Section: f.Tag.Get("section"), index: i,
			Required: strings.Contains(f.Tag.Get("submit"), "required") || strings.Contains(f.Tag.Get("submit"), "filled")}
		validate := f.Tag.Get("validate")
		switch {
		case name == "lang":
			s.Kind = KindLang
		case f.Tag.Get("kind") == "markdown":
			s.Kind = KindMarkdown
		case f.Type == reflect.TypeOf(Text{}):
			s.Kind = KindText
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			s.Kind = KindList
		case f.Type.Kind() == reflect.Slice:
			s.Kind = KindRows
		case f.Type.Kind() == reflect.Struct:
			s.Kind = KindStruct
		case strings.Contains(validate, "weburl"):
			s.Kind = KindURL
		case strings.Contains(validate, "email"):
			s.Kind = KindEmail
		case strings.Contains(validate, "isodate"):
			s.Kind = KindDate
		case enumOptions[name] != nil:
			s.Kind = KindEnum
		default:
			s.Kind = KindString
		}
		s.Options = enumOptions[name]
		out = append(out, s)
	}
	return out
}

// Problem is one thing wrong with or missing from a fact sheet, by form path.
type Problem struct {
	Field   string // form path, e.g. "description" or "data_sources.0.name"
	Section string
	Message string // catalogue key
	Args    []any
}

func problems(fields map[string]string, args map[string][]any) []Problem {
	var out []Problem
	for path, msg := range fields {
		top, _, _ := strings.Cut(path, ".")
		spec, _ := FieldByName(top)
		out = append(out, Problem{Field: path, Section: spec.Section, Message: msg, Args: args[path]})
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := FieldByName(strings.SplitN(out[i].Field, ".", 2)[0])
		b, _ := FieldByName(strings.SplitN(out[j].Field, ".", 2)[0])
		if a.index != b.index {
			return a.index < b.index
		}
		return out[i].Field < out[j].Field
	})
	return out
}
