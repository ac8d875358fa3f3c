package opendata

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
)

// nativeSystem are the keys of a native record that the system sets, not the author.
var nativeSystem = map[string]string{
	"uuid": reasonSystem, "revision": reasonSystem, "publication_date": reasonSystem, "last_change_date": reasonSystem,
	"retired": reasonSystem, "latest": reasonSystem, "governance": reasonReview,
	"governance_approvals": reasonReview, "governance_conditions": reasonReview,
	"risk_category": reasonComputed, "impact_level": reasonComputed,
}

// parseJSONArray reads a JSON array of native records or of Eurocities objects.
func parseJSONArray(body []byte) (ImportSource, []*Draft, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return "", nil, jsonError(body, err)
	}
	objects := make([]jsonObject, len(items))
	for i, raw := range items {
		objects[i] = jsonObject{where: fmt.Sprintf("record %d", i+1), raw: raw}
	}
	return decodeObjects(objects)
}

// parseNDJSON reads one JSON object per line; blank lines are allowed.
func parseNDJSON(body []byte) (ImportSource, []*Draft, error) {
	var objects []jsonObject
	for i, line := range bytes.Split(body, []byte("\n")) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			objects = append(objects, jsonObject{where: fmt.Sprintf("line %d", i+1), raw: line})
		}
	}
	return decodeObjects(objects)
}

type jsonObject struct {
	where string
	raw   json.RawMessage
}

// decodeObjects maps each object to a draft. The first object says what the file is (a
// Eurocities object carries standard_version, a native record its slug); every other
// object must be of the same kind.
func decodeObjects(objects []jsonObject) (ImportSource, []*Draft, error) {
	var source ImportSource
	drafts := make([]*Draft, 0, len(objects))
	for _, o := range objects {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(o.raw, &fields); err != nil || fields == nil {
			if err != nil {
				err = jsonError(o.raw, err)
			}
			return "", nil, fmt.Errorf("%s: not a JSON object: %v", o.where, err)
		}
		kind := objectSource(fields)
		switch {
		case kind == "":
			return "", nil, fmt.Errorf("%s: neither a native record (it has no slug) nor a Eurocities object (it has no standard_version)", o.where)
		case source == "":
			source = kind
		case kind != source:
			return "", nil, fmt.Errorf("%s: a %s in a file of %ss", o.where, kind, source)
		}
		var d *Draft
		if kind == SourceNative {
			d = nativeDraft(o.where, fields)
		} else {
			d = eurocitiesDraft(o.where, eurocitiesStrings(fields))
		}
		drafts = append(drafts, d)
	}
	return source, drafts, nil
}

func objectSource(fields map[string]json.RawMessage) ImportSource {
	_, standard := fields["standard_version"]
	_, slug := fields["slug"]
	_, answers := fields["risk_assessment"]
	switch {
	case standard && !slug:
		return SourceEurocities
	case slug || answers:
		return SourceNative
	}
	return ""
}

// sheetFields maps each fact-sheet field's JSON name to its spec and index in FactSheet.
var sheetFields = func() map[string]sheetField {
	t := reflect.TypeFor[algorithms.FactSheet]()
	out := map[string]sheetField{}
	for _, f := range algorithms.Fields {
		out[f.Name] = sheetField{spec: f, index: fieldIndex(t, f.Name)}
	}
	return out
}()

type sheetField struct {
	spec  algorithms.FieldSpec
	index int
}

func (f sheetField) value(sheet *algorithms.FactSheet) reflect.Value {
	return reflect.ValueOf(sheet).Elem().Field(f.index)
}

// expected says what a field's JSON value must be, for the report.
func (f sheetField) expected() string {
	switch f.spec.Kind {
	case algorithms.KindText, algorithms.KindMarkdown:
		return `a language map {"ca": …, "es": …, "en": …}`
	case algorithms.KindList:
		return "a list of texts"
	case algorithms.KindRows:
		return "a list of objects: " + jsonShapes[f.spec.Name]
	case algorithms.KindStruct:
		return "an object: " + jsonShapes[f.spec.Name]
	}
	return "a text"
}

// decode sets the field from its JSON value; on an error the field keeps its zero value.
func (f sheetField) decode(sheet *algorithms.FactSheet, raw []byte) error {
	v := reflect.New(f.value(sheet).Type())
	if err := json.Unmarshal(raw, v.Interface()); err != nil {
		return err
	}
	f.value(sheet).Set(v.Elem())
	return nil
}

// nativeDraft maps a native record (a line of export.ndjson, an element of export.json):
// its fact-sheet fields, slug and risk assessment answers; what the system set is reported.
func nativeDraft(where string, fields map[string]json.RawMessage) *Draft {
	d := &Draft{Source: where}
	for _, key := range sortedKeys(fields) {
		raw := fields[key]
		if key == "uuid" {
			_ = json.Unmarshal(raw, &d.uuid) // only to tell revisions of one entry apart
		}
		if reason, ok := nativeSystem[key]; ok {
			d.Skipped = append(d.Skipped, Skipped{key, reason})
			continue
		}
		var err error
		switch f, ok := sheetFields[key]; {
		case key == "slug":
			if err = json.Unmarshal(raw, &d.Slug); err != nil {
				err = fmt.Errorf("not in the expected form (a text)")
			}
		case key == "risk_assessment":
			var a risk.Answers
			if err = json.Unmarshal(raw, &a); err != nil {
				err = fmt.Errorf("not in the expected form (the register's risk assessment answers)")
			} else {
				d.Answers = &a
			}
		case ok:
			if err = f.decode(&d.Sheet, raw); err != nil {
				err = fmt.Errorf("not in the expected form (%s)", f.expected())
			}
		default:
			err = fmt.Errorf("not a field of the register's records")
		}
		if err != nil {
			d.Skipped = append(d.Skipped, Skipped{key, err.Error()})
		}
	}
	return d
}

// parseCSV reads a CSV export: the register's own columns (export.csv, described by the
// data package) or the Eurocities standard's attribute names.
func parseCSV(body []byte, namedCSV bool) (ImportSource, []*Draft, error) {
	r := csv.NewReader(bytes.NewReader(body))
	rows, err := r.ReadAll()
	if err != nil {
		if namedCSV {
			return "", nil, fmt.Errorf("not valid CSV: %w", err)
		}
		return "", nil, errNotImportable
	}
	header := rows[0]
	var drafts []*Draft
	switch {
	case slices.Contains(header, "standard_version") && !slices.Contains(header, "slug"):
		for i, row := range rows[1:] {
			cells := map[string]string{}
			for j, name := range header {
				if v := row[j]; strings.TrimSpace(v) != "" {
					cells[name] = v
				}
			}
			drafts = append(drafts, eurocitiesDraft(fmt.Sprintf("row %d", i+2), cells))
		}
		return SourceEurocities, drafts, nil
	case slices.Contains(header, "slug") && slices.Contains(header, "lang"):
		for i, row := range rows[1:] {
			drafts = append(drafts, nativeRow(fmt.Sprintf("row %d", i+2), header, row))
		}
		return SourceNative, drafts, nil
	}
	return "", nil, errNotImportable
}

// textColumns maps each text column of the native CSV (name_ca, name_es…) to its field
// and language.
var textColumns = func() map[string][2]string {
	out := map[string][2]string{}
	for _, f := range algorithms.Fields {
		if f.Kind == algorithms.KindText || f.Kind == algorithms.KindMarkdown {
			for _, l := range algorithms.Languages {
				out[f.Name+"_"+l] = [2]string{f.Name, l}
			}
		}
	}
	return out
}()

// nativeRow maps a row of export.csv. The CSV has no risk assessment answers (only the tier
// and level they gave), so the author answers the assessment again.
func nativeRow(where string, header, row []string) *Draft {
	d := &Draft{Source: where}
	for j, name := range header {
		cell := row[j]
		if strings.TrimSpace(cell) == "" {
			continue
		}
		if name == "uuid" {
			d.uuid = cell
		}
		if reason, ok := nativeSystem[name]; ok {
			d.Skipped = append(d.Skipped, Skipped{name, reason})
			continue
		}
		if tc, ok := textColumns[name]; ok {
			t := sheetFields[tc[0]].value(&d.Sheet)
			if t.IsNil() {
				t.Set(reflect.ValueOf(algorithms.Text{}))
			}
			t.SetMapIndex(reflect.ValueOf(tc[1]), reflect.ValueOf(cell))
			continue
		}
		f, ok := sheetFields[name]
		switch {
		case name == "slug":
			d.Slug = cell
		case !ok || f.spec.Kind == algorithms.KindText || f.spec.Kind == algorithms.KindMarkdown:
			d.Skipped = append(d.Skipped, Skipped{name, "not a column of the register's CSV export"})
		case f.spec.Kind == algorithms.KindList || f.spec.Kind == algorithms.KindRows || f.spec.Kind == algorithms.KindStruct:
			if err := f.decode(&d.Sheet, []byte(cell)); err != nil {
				d.Skipped = append(d.Skipped, Skipped{name, fmt.Sprintf("not in the expected form (JSON text: %s)", f.expected())})
			}
		default:
			f.value(&d.Sheet).SetString(cell)
		}
	}
	d.Notes = append(d.Notes, Skipped{"risk_assessment", "not in a CSV export: answer the risk assessment in the workspace"})
	return d
}
