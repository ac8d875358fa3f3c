package algorithms

import (
	"reflect"
	"strconv"
	"strings"
)

// fieldView is one field as a form shows it.
type fieldView struct {
	FieldSpec
	Label, Hint string
	Value       string // in the language being edited, for text
	Reference   string // the original-language text, shown while translating
	Error       string
	Values      []string // for lists of options (special categories)
	Suggestions []string // for text: the usual answers, offered as the field is typed
}

// sectionView is one section's form.
type sectionView struct {
	Algorithm *Algorithm
	Revision  *Revision
	Section   string
	Title     string
	Sections  []string
	TL        string // the language whose text is being edited
	Fields    []fieldView
	Errors    map[string]string
	Sheet     *FactSheet
	Extra     map[string]int // extra blank rows per repeatable field
	Langs     []string
	Titles    map[string]string
	Labels    map[string]string
	Options   map[string][]string
}

// RowIndex is a row of a repeatable field with its position, for form names.
type RowIndex struct {
	I   int
	Row any
}

func newSectionView(alg *Algorithm, rev *Revision, sheet *FactSheet, section, tl string, errors map[string]string, extra map[string]int) *sectionView {
	sv := &sectionView{Algorithm: alg, Revision: rev, Section: section, Title: SectionTitles[section], Sections: Sections,
		TL: tl, Errors: errors, Sheet: sheet, Extra: extra, Langs: Languages, Titles: SectionTitles, Labels: FieldLabels,
		Options: map[string][]string{"kind": ImpactAssessmentKinds, "special_categories": SpecialCategories}}
	v := reflect.ValueOf(sheet).Elem()
	for _, spec := range SectionFields(section) {
		fv := fieldView{FieldSpec: spec, Label: FieldLabels[spec.Name], Hint: FieldHints[spec.Name], Error: errors[spec.Name]}
		switch x := v.Field(spec.index).Interface().(type) {
		case Text:
			fv.Value = x[tl]
			if tl != sheet.Lang {
				fv.Reference = x[sheet.Lang]
			}
		case []string:
			fv.Value = strings.Join(x, ", ")
		case string:
			fv.Value = x
		}
		sv.Fields = append(sv.Fields, fv)
	}
	return sv
}

// Rows returns the rows of a repeatable field plus the blank ones to fill in.
func (sv *sectionView) Rows(name string) []RowIndex {
	spec, _ := FieldByName(name)
	field := reflect.ValueOf(sv.Sheet).Elem().Field(spec.index)
	var out []RowIndex
	for i := range field.Len() {
		out = append(out, RowIndex{I: i, Row: field.Index(i).Interface()})
	}
	blanks := 1 + sv.Extra[name]
	if field.Len() == 0 && blanks < 1 {
		blanks = 1
	}
	for range blanks {
		out = append(out, RowIndex{I: len(out), Row: reflect.New(field.Type().Elem()).Elem().Interface()})
	}
	return out
}

// Err returns the error of a form path.
func (sv *sectionView) Err(path string) string { return sv.Errors[path] }

// Path joins a repeatable field's name, row and sub-field into a form path.
func Path(name string, i int, sub string) string { return name + "." + strconv.Itoa(i) + "." + sub }

func reflectField(fs *FactSheet, name string) any {
	spec, _ := FieldByName(name)
	return reflect.ValueOf(fs).Elem().Field(spec.index).Interface()
}

// coverage returns, per language, the share of the entry's filled free-text fields that
// have text in that language.
func coverage(fs *FactSheet) map[string]int {
	v := reflect.ValueOf(fs).Elem()
	filled, per := 0, map[string]int{}
	for _, spec := range Fields {
		t, ok := v.Field(spec.index).Interface().(Text)
		if !ok || t.Empty() {
			continue
		}
		filled++
		for _, l := range Languages {
			if strings.TrimSpace(t[l]) != "" {
				per[l]++
			}
		}
	}
	out := map[string]int{}
	for _, l := range Languages {
		if filled > 0 {
			out[l] = per[l] * 100 / filled
		}
	}
	return out
}

// subField is one part of a repeatable row or of the supplier, as the form shows it.
type subField struct {
	Path, Label string
	Kind        string // text, long, bool, multi, enum, date, url, string
	Value       string
	Reference   string
	Checked     bool
	Options     []string
	Selected    []string
	Error       string
}

// rowView is one row of a repeatable field.
type rowView struct {
	I      int
	Prefix string
	Fields []subField
}

// RowViews returns the rows of a repeatable field (plus blank ones) as form parts.
func (sv *sectionView) RowViews(name string) []rowView {
	var out []rowView
	for _, ri := range sv.Rows(name) {
		prefix := name + "." + strconv.Itoa(ri.I) + "."
		out = append(out, rowView{I: ri.I, Prefix: prefix, Fields: sv.subFields(name, prefix, reflect.ValueOf(ri.Row))})
	}
	return out
}

// StructFields returns the parts of a structured field such as the supplier.
func (sv *sectionView) StructFields(name string) []subField {
	return sv.subFields(name, name+".", reflect.ValueOf(reflectField(sv.Sheet, name)))
}

func (sv *sectionView) subFields(name, prefix string, v reflect.Value) []subField {
	t := v.Type()
	var out []subField
	for i := range t.NumField() {
		sf := t.Field(i)
		jn, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		f := subField{Path: prefix + jn, Label: FieldLabels[name+"."+jn], Error: sv.Errors[prefix+jn], Kind: "string"}
		switch x := v.Field(i).Interface().(type) {
		case Text:
			f.Kind, f.Value = "text", x[sv.TL]
			if sf.Tag.Get("kind") == "long" {
				f.Kind = "long"
			}
			if sv.TL != sv.Sheet.Lang {
				f.Reference = x[sv.Sheet.Lang]
			}
		case bool:
			f.Kind, f.Checked = "bool", x
		case []string:
			f.Kind, f.Selected, f.Options = "multi", x, sv.Options[jn]
		case string:
			f.Value = x
			switch {
			case sf.Tag.Get("kind") == "enum":
				f.Kind, f.Options = "enum", sv.Options[jn]
			case sf.Tag.Get("kind") == "date":
				f.Kind = "date"
			case strings.Contains(sf.Tag.Get("validate"), "weburl"):
				f.Kind = "url"
			}
		}
		out = append(out, f)
	}
	return out
}
