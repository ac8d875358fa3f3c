package algorithms

import (
	"reflect"
	"strings"
)

var textType = reflect.TypeOf(Text{})

// cleanTexts normalises every Text and string in v (a pointer to a struct): trimmed, line
// endings unified, empty languages dropped, and rows with nothing in them removed.
func cleanTexts(v any) {
	cleanValue(reflect.ValueOf(v).Elem())
}

func cleanValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			cleanValue(v.Field(i))
		}
	case reflect.String:
		v.SetString(strings.TrimSpace(v.String()))
	case reflect.Map:
		if v.Type() == textType {
			t := v.Interface().(Text).Clean()
			if len(t) == 0 {
				v.Set(reflect.Zero(textType))
			} else {
				v.Set(reflect.ValueOf(t))
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Struct {
			return
		}
		kept := reflect.MakeSlice(v.Type(), 0, v.Len())
		for i := range v.Len() {
			row := v.Index(i)
			cleanValue(row)
			if !isBlankRow(row) {
				kept = reflect.Append(kept, row)
			}
		}
		if kept.Len() == 0 {
			kept = reflect.Zero(v.Type())
		}
		v.Set(kept)
	}
}

// isBlankRow reports a row whose text fields are all empty (booleans alone do not make a row).
func isBlankRow(v reflect.Value) bool {
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String, reflect.Map, reflect.Slice:
			if f.Len() > 0 {
				return false
			}
		}
	}
	return true
}
