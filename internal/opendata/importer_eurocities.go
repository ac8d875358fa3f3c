package opendata

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/civictech/registry/internal/algorithms"
)

// eurocitiesSkip are the standard's attributes that a draft cannot take from the file.
var eurocitiesSkip = map[string]string{
	"standard_version": reasonSystem, "uuid": reasonSystem, "publication_date": reasonSystem,
	"last_change_date": reasonSystem, "risk_category": reasonComputed,
	"country": "the same for every entry of this register",
}

// standardAttributes are the names of the standard's attributes, from EurocitiesEntry.
var standardAttributes = func() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeFor[EurocitiesEntry]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = true
	}
	return out
}()

// eurocitiesStrings reads a Eurocities JSON object: the standard's attributes are all text,
// so anything else is reported under the name "!" + key for eurocitiesDraft to list.
func eurocitiesStrings(fields map[string]json.RawMessage) map[string]string {
	out := map[string]string{}
	for k, raw := range fields {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			continue // cannot happen: raw came out of a decoded object
		}
		switch v := v.(type) {
		case nil:
		case string:
			if strings.TrimSpace(v) != "" {
				out[k] = v
			}
		default:
			out["!"+k] = string(raw)
		}
	}
	return out
}

// eurocitiesDraft maps one registration of the standard back onto the fact sheet: the text
// into the lang language map, DPIA_* and AIA_* into impact assessment rows, and what the
// projection folded into an attribute (mitigations into risks, the reason for ending into
// remark, a FRIA into AIA_description) back into its own field.
func eurocitiesDraft(where string, attrs map[string]string) *Draft {
	d := &Draft{Source: where}
	s := &d.Sheet
	lang := strings.TrimSpace(attrs["lang"])
	s.Lang = lang
	for _, key := range sortedKeys(attrs) {
		v := attrs[key]
		if name, ok := strings.CutPrefix(key, "!"); ok {
			d.Skipped = append(d.Skipped, Skipped{name, "not a text, as the standard wants every attribute"})
			continue
		}
		if reason, ok := eurocitiesSkip[key]; ok {
			d.Skipped = append(d.Skipped, Skipped{key, reason})
			continue
		}
		f, native := sheetFields[key]
		switch {
		case key == "lang" || strings.HasPrefix(key, "DPIA_") || strings.HasPrefix(key, "AIA_"):
			// The language is set above, the assessments below.
		case !standardAttributes[key]:
			d.Skipped = append(d.Skipped, Skipped{key, "not an attribute of the Eurocities standard " + StandardVersion})
		case key == "keywords":
			for _, k := range strings.Split(v, ",") {
				if k = strings.TrimSpace(k); k != "" {
					s.Keywords = append(s.Keywords, k)
				}
			}
		case key == "remark":
			main, extra := unfold(v, lang, "end_reason")
			s.Remark, s.EndReason = text(lang, main), text(lang, extra)
		case key == "risks":
			main, extra := unfold(v, lang, "mitigations")
			s.Risks, s.Mitigations = text(lang, main), text(lang, extra)
		case !native:
			d.Skipped = append(d.Skipped, Skipped{key, "no field of the register holds it"})
		case f.spec.Kind == algorithms.KindText || f.spec.Kind == algorithms.KindMarkdown:
			f.value(s).Set(reflect.ValueOf(text(lang, v)))
		default:
			f.value(s).SetString(v)
		}
	}
	for _, kind := range []string{"DPIA", "AIA"} {
		d.assessment(kind, attrs[kind+"_description"], attrs[kind+"_url"])
	}
	return d
}

// assessment adds the impact assessment row that DPIA_* or AIA_* describe. The export
// writes a FRIA into AIA_* as "FRIA: …", so that prefix makes a FRIA row again. The
// standard does not say whether the assessment was done; a description or an address is
// taken to mean it was, and the author is asked to check.
func (d *Draft) assessment(kind, description, url string) {
	description, url = strings.TrimSpace(description), strings.TrimSpace(url)
	if url != "" && !algorithms.IsWebURL(url) {
		d.Skipped = append(d.Skipped, Skipped{kind + "_url", "Enter a web address that starts with https:// or http://."})
		url = ""
	}
	if description == "" && url == "" {
		return
	}
	if rest, ok := strings.CutPrefix(description, "FRIA: "); ok && kind == "AIA" {
		kind, description = "FRIA", rest
	}
	d.Sheet.ImpactAssessments = append(d.Sheet.ImpactAssessments, algorithms.ImpactAssessment{
		Kind: kind, Done: true, Summary: text(d.Sheet.Lang, description), URL: url})
	field := kind + "_description"
	if kind == "FRIA" {
		field = "AIA_description"
	}
	d.Notes = append(d.Notes, Skipped{field, "imported as a " + kind + " that was done (the standard does not say): check it"})
}

// unfold undoes fold: it splits the text the export appended to an attribute, after its
// label in the entry's language, from the attribute's own text.
func unfold(v, lang, name string) (string, string) {
	label := foldLabels[name][lang] + ":\n\n"
	if label == ":\n\n" {
		return v, ""
	}
	if rest, ok := strings.CutPrefix(v, label); ok {
		return "", rest
	}
	if i := strings.LastIndex(v, "\n\n"+label); i >= 0 {
		return v[:i], v[i+2+len(label):]
	}
	return v, ""
}

// text is a language map holding v in lang, or nil when v is empty.
func text(lang, v string) algorithms.Text {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	return algorithms.Text{lang: v}
}
