package algorithms

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// applySection copies one section's submitted form onto sheet. Free text goes into language
// tl only, so that editing a translation never touches the original; fields of other
// sections are left as they are.
func applySection(sheet *FactSheet, section, tl string, form url.Values) {
	v := reflect.ValueOf(sheet).Elem()
	for _, spec := range SectionFields(section) {
		field := v.Field(spec.index)
		switch spec.Kind {
		case KindText, KindMarkdown:
			if _, ok := form[spec.Name]; !ok {
				continue
			}
			setText(field, tl, form.Get(spec.Name))
		case KindList:
			if _, ok := form[spec.Name]; ok {
				field.Set(reflect.ValueOf(splitList(form.Get(spec.Name))))
			}
		case KindRows:
			applyRows(field, spec.Name, tl, form)
		case KindStruct:
			applyStruct(field, spec.Name+".", tl, form)
		default:
			if _, ok := form[spec.Name]; ok {
				field.SetString(form.Get(spec.Name))
			}
		}
	}
}

func setText(field reflect.Value, lang, value string) {
	t, _ := field.Interface().(Text)
	if t == nil {
		t = Text{}
	} else {
		t = maps(t)
	}
	t[lang] = value
	field.Set(reflect.ValueOf(t))
}

func maps(t Text) Text {
	out := make(Text, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// applyRows reads repeatable rows named "field.N.sub" for N below "field.count". A row whose
// "remove" box is ticked is dropped; the language-map parts of an existing row keep their
// other languages.
func applyRows(field reflect.Value, name, tl string, form url.Values) {
	count, err := strconv.Atoi(form.Get(name + ".count"))
	if err != nil || count < 0 || count > 100 {
		return
	}
	rows := reflect.MakeSlice(field.Type(), 0, count)
	for i := range count {
		prefix := name + "." + strconv.Itoa(i) + "."
		if form.Get(prefix+"remove") != "" {
			continue
		}
		row := reflect.New(field.Type().Elem()).Elem()
		if i < field.Len() {
			row.Set(field.Index(i))
		}
		applyStruct(row, prefix, tl, form)
		rows = reflect.Append(rows, row)
	}
	field.Set(rows)
}

// applyStruct sets the fields of a row or of the supplier from "prefix+json name".
func applyStruct(v reflect.Value, prefix, tl string, form url.Values) {
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		key := prefix + name
		f := v.Field(i)
		switch {
		case f.Type() == textType:
			if _, ok := form[key]; ok {
				setText(f, tl, form.Get(key))
			}
		case f.Kind() == reflect.Bool:
			f.SetBool(form.Get(key) != "")
		case f.Kind() == reflect.Slice:
			list := form[key]
			f.Set(reflect.ValueOf(append([]string(nil), list...)))
		case f.Kind() == reflect.String:
			if _, ok := form[key]; ok {
				f.SetString(form.Get(key))
			}
		}
	}
}
