package diff

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/civictech/registry/internal/algorithms"
)

// FieldChange is one fact-sheet field that differs between two versions of a fact sheet.
type FieldChange struct {
	Field string // JSON name, as in algorithms.Fields
	Label string // the translated label of the field
	Ops   []Op   // Words(Old, New)
	Old   string // the field as plain text in the old version ("" when it had none)
	New   string // the field as plain text in the new version
}

// FactSheets compares two fact sheets field by field and lists the fields that differ, in
// the order of algorithms.Fields, each with a word diff of its plain-text form.
//
//   - Free text (a language map) is compared in lang. When neither sheet has text in lang,
//     each sheet's text in its own original language (FactSheet.Lang) is compared instead,
//     so a reader of an untranslated entry still sees what changed; when only one side has
//     text in lang, the other side counts as empty (a translation added or removed).
//   - Strings, dates, addresses and enumerations are compared as they are stored;
//     keywords are joined with ", ".
//   - Data sources, impact assessments, legal texts and the supplier are written out one
//     line per row, as "name — description (personal data: categories); owner: …", with
//     their free text in lang (or, value by value, the sheet's original language) and then
//     diffed as text.
//
// label translates a catalogue key: it receives algorithms.FieldLabels of the field (and of
// the sub-fields named inside rows); nil leaves the keys as they are. old may be nil, for a
// first revision: every filled field then shows as inserted. new may be nil too (everything
// deleted); with both nil there is nothing to compare.
func FactSheets(old, new *algorithms.FactSheet, lang string, label func(key string) string) []FieldChange {
	if old == nil && new == nil {
		return nil
	}
	if old == nil {
		old = &algorithms.FactSheet{}
	}
	if new == nil {
		new = &algorithms.FactSheet{}
	}
	if label == nil {
		label = func(key string) string { return key }
	}
	r := renderer{lang: lang, label: label}
	ov, nv := reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem()
	var out []FieldChange
	for _, f := range algorithms.Fields {
		i, ok := fieldIndex[f.Name]
		if !ok {
			continue
		}
		var o, n string
		if ot, ok := ov.Field(i).Interface().(algorithms.Text); ok {
			o, n = texts(ot, nv.Field(i).Interface().(algorithms.Text), lang, old.Lang, new.Lang)
		} else {
			o = r.value(ov.Field(i), f.Name, old.Lang)
			n = r.value(nv.Field(i), f.Name, new.Lang)
		}
		if o == n {
			continue
		}
		out = append(out, FieldChange{Field: f.Name, Label: r.labelOf(f.Name), Ops: Words(o, n), Old: o, New: n})
	}
	return out
}

// fieldIndex maps the JSON name of each FactSheet field to its index in the struct.
var fieldIndex = func() map[string]int {
	t := reflect.TypeFor[algorithms.FactSheet]()
	out := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && t.Field(i).IsExported() {
			out[name] = i
		}
	}
	return out
}()

// texts returns the two versions of a free-text field to compare: in lang when either
// version has text in lang, else each in its sheet's original language.
func texts(o, n algorithms.Text, lang, oLang, nLang string) (string, string) {
	os, ns := strings.TrimSpace(o[lang]), strings.TrimSpace(n[lang])
	if os != "" || ns != "" {
		return os, ns
	}
	return strings.TrimSpace(o[oLang]), strings.TrimSpace(n[nLang])
}

// renderer writes non-text fields as plain text.
type renderer struct {
	lang  string
	label func(string) string
}

// labelOf translates the label of a field or sub-field path ("data_sources.owner").
func (r renderer) labelOf(path string) string {
	if l, ok := algorithms.FieldLabels[path]; ok {
		return r.label(l)
	}
	return path
}

// text returns t in the reader's language, else in the sheet's original language, on one
// line.
func (r renderer) text(t algorithms.Text, orig string) string {
	s, _ := t.In(r.lang, orig)
	return oneLine(s)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// value writes field name of a sheet whose original language is orig.
func (r renderer) value(v reflect.Value, name, orig string) string {
	switch x := v.Interface().(type) {
	case string:
		return x
	case []string:
		return strings.Join(x, ", ")
	case []algorithms.DataSource:
		return lines(x, func(d algorithms.DataSource) string { return r.dataSource(d, orig) })
	case []algorithms.ImpactAssessment:
		return lines(x, func(a algorithms.ImpactAssessment) string { return r.assessment(a, orig) })
	case []algorithms.Link:
		return lines(x, func(l algorithms.Link) string {
			return joinNonEmpty(" — ", oneLine(l.Title), l.URL)
		})
	case algorithms.Supplier:
		return r.supplier(x, orig)
	}
	return r.generic(v, name, orig)
}

// lines writes one line per row, skipping blank rows.
func lines[T any](rows []T, line func(T) string) string {
	var out []string
	for _, row := range rows {
		if s := line(row); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "\n")
}

// dataSource writes "name — description (Contains personal data: health); Data owner: …".
func (r renderer) dataSource(d algorithms.DataSource, orig string) string {
	line := joinNonEmpty(" — ", r.text(d.Name, orig), r.text(d.Description, orig))
	cats := strings.Join(d.SpecialCategories, ", ")
	switch {
	case d.PersonalData:
		line = joinNonEmpty(" ", line, "("+joinNonEmpty(": ", r.labelOf("data_sources.personal_data"), cats)+")")
	case cats != "":
		line = joinNonEmpty(" ", line, "("+r.labelOf("data_sources.special_categories")+": "+cats+")")
	}
	return joinNonEmpty("; ", line,
		r.labelled("data_sources.owner", oneLine(d.Owner)),
		r.labelled("data_sources.licence", oneLine(d.Licence)),
		r.labelled("data_sources.open_data_url", d.OpenDataURL),
		r.labelled("data_sources.retention", r.text(d.Retention, orig)))
}

// assessment writes "DPIA (Done, 2024-03-01) — summary; Address: …", or for one not done
// "FRIA; Why it was not done: …".
func (r renderer) assessment(a algorithms.ImpactAssessment, orig string) string {
	var state string
	if a.Done {
		state = joinNonEmpty(", ", r.labelOf("impact_assessments.done"), a.Date)
	} else {
		state = a.Date
	}
	head := a.Kind
	if state != "" {
		head = joinNonEmpty(" ", head, "("+state+")")
	}
	return joinNonEmpty("; ", joinNonEmpty(" — ", head, r.text(a.Summary, orig)),
		r.labelled("impact_assessments.url", a.URL),
		r.labelled("impact_assessments.reason_not_done", r.text(a.ReasonNotDone, orig)))
}

// supplier writes "name (Supplier tax ID: …) — role; Procurement: …; Contract: …".
func (r renderer) supplier(s algorithms.Supplier, orig string) string {
	head := oneLine(s.Name)
	if id := r.labelled("supplier.id", oneLine(s.ID)); id != "" {
		head = joinNonEmpty(" ", head, "("+id+")")
	}
	return joinNonEmpty("; ", joinNonEmpty(" — ", head, r.text(s.Role, orig)),
		r.labelled("supplier.procurement", r.text(s.Procurement, orig)),
		r.labelled("supplier.contract_url", s.ContractURL))
}

// labelled writes "Label: value", or "" for no value.
func (r renderer) labelled(path, value string) string {
	if value == "" {
		return ""
	}
	return r.labelOf(path) + ": " + value
}

// generic writes a field of a type the fact sheet may gain later: rows one per line, each
// as its filled sub-fields "Label: value" joined by "; ".
func (r renderer) generic(v reflect.Value, path, orig string) string {
	switch v.Kind() {
	case reflect.Slice:
		var out []string
		for i := range v.Len() {
			if s := r.generic(v.Index(i), path, orig); s != "" {
				out = append(out, s)
			}
		}
		sep := "\n"
		if v.Type().Elem().Kind() != reflect.Struct {
			sep = ", "
		}
		return strings.Join(out, sep)
	case reflect.Struct:
		var parts []string
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			switch s := r.generic(v.Field(i), path+"."+name, orig); {
			case s == "":
			case f.Type.Kind() == reflect.Bool:
				parts = append(parts, s) // the label alone says it
			default:
				parts = append(parts, r.labelOf(path+"."+name)+": "+s)
			}
		}
		return strings.Join(parts, "; ")
	case reflect.Bool:
		if v.Bool() {
			return r.labelOf(path)
		}
		return ""
	case reflect.String:
		return oneLine(v.String())
	}
	if t, ok := v.Interface().(algorithms.Text); ok {
		return r.text(t, orig)
	}
	if v.IsZero() {
		return ""
	}
	return fmt.Sprint(v.Interface())
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
