package opendata

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apperr"
)

// ImportSource is what kind of file an import reads.
type ImportSource string

// The files `registry import` reads.
const (
	SourceNative     ImportSource = "native export"     // export.json, export.ndjson or export.csv
	SourceEurocities ImportSource = "Eurocities export" // eurocities.json, or a CSV with the standard's columns
	SourceModelCard  ImportSource = "model card"        // a Hugging Face README.md with YAML front matter
)

// Import is a file read, mapped and checked, ready to become drafts. Parse does every
// check before Create writes anything, so that a file is imported whole or not at all.
type Import struct {
	Source ImportSource
	Format string // JSON, NDJSON, CSV or Markdown
	Drafts []*Draft
}

// Draft is one entry of an import: revision 1 of a new algorithm, never published.
type Draft struct {
	Source  string // where it is in the file: "record 3", "row 4", "model card"
	Slug    string // the slug to keep, when the file has one ("" makes one from the name)
	Sheet   algorithms.FactSheet
	Answers *risk.Answers // the risk assessment; nil when the file has none
	// Skipped lists what the file holds that the draft does not, and why.
	Skipped []Skipped
	// Notes list what was imported on an assumption the author should check.
	Notes []Skipped
	// uuid is the entry's identifier in the register that exported it, when the file says.
	uuid string
}

// Skipped is one field of the file (a JSON key, a CSV column, a front-matter key or a
// "## Heading"), and the reason for what happened to it.
type Skipped struct {
	Field  string
	Reason string
}

// The reasons shared by the formats.
const (
	reasonSystem   = "set by the system"
	reasonComputed = "computed from the risk assessment"
	reasonReview   = "the outcome of the ethics review: the draft has not been reviewed"
)

// errNotImportable is the answer to a file of no known kind.
var errNotImportable = errors.New("not an import file: give a native export (export.json, export.ndjson or export.csv), " +
	"a Eurocities export (JSON or CSV) or a Hugging Face model card (README.md with YAML front matter)")

// Parse reads an import file: its kind is told by its content (name only sharpens the error
// message). It returns an error, and no drafts, when any part of the file is malformed or an
// entry cannot be a draft (no name, or a language the register does not hold); values that
// break a field's rule are dropped from that field and listed in the draft's Skipped, so
// that every draft is well-formed (FactSheet.Validate) however rough the file.
func Parse(name string, data []byte, defs *risk.Definitions) (*Import, error) {
	body := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\uFEFF")), " \t\r\n")
	imp := &Import{}
	var err error
	switch {
	case len(body) == 0:
		return nil, errors.New("the file is empty")
	case isModelCard(body):
		imp.Source, imp.Format = SourceModelCard, "Markdown"
		var d *Draft
		if d, err = parseModelCard(body); err == nil {
			imp.Drafts = []*Draft{d}
		}
	case strings.EqualFold(filepath.Ext(name), ".md"):
		return nil, errors.New("a model card opens with YAML front matter between two --- lines; this file has none")
	case !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0:
		return nil, errNotImportable
	case body[0] == '[':
		imp.Format = "JSON"
		imp.Source, imp.Drafts, err = parseJSONArray(body)
	case body[0] == '{':
		imp.Format = "NDJSON"
		imp.Source, imp.Drafts, err = parseNDJSON(body)
	default:
		imp.Format = "CSV"
		imp.Source, imp.Drafts, err = parseCSV(body, strings.EqualFold(filepath.Ext(name), ".csv"))
	}
	if err != nil {
		return nil, err
	}
	if len(imp.Drafts) == 0 {
		return nil, errors.New("the file holds no entries")
	}
	if err := oneRevisionEach(imp.Drafts); err != nil {
		return nil, err
	}
	for _, d := range imp.Drafts {
		if err := d.finish(defs); err != nil {
			return nil, fmt.Errorf("%s: %w", d.Source, err)
		}
	}
	return imp, nil
}

// oneRevisionEach refuses an export of every published revision (--versions all): each
// revision would become an entry of its own.
func oneRevisionEach(drafts []*Draft) error {
	seen := map[string]string{}
	for _, d := range drafts {
		if d.uuid == "" {
			continue
		}
		if first, ok := seen[d.uuid]; ok {
			return fmt.Errorf("%s: another revision of the entry in %s: import an export of the latest revisions (without --versions all)", d.Source, first)
		}
		seen[d.uuid] = d.Source
	}
	return nil
}

// DraftStore creates drafts; *algorithms.Store is the real one.
type DraftStore interface {
	CreateDrafts(ctx context.Context, by algorithms.Actor, drafts []algorithms.NewDraft) ([]*algorithms.Algorithm, error)
}

// Created is a draft Create made.
type Created struct {
	*Draft
	AlgorithmID string
	Slug        string // as the register gave it: the file's slug, or that slug made unique
}

// Create registers every draft of the import, owned by by, in file order, in one
// transaction: all of them or, on any failure, none.
func (imp *Import) Create(ctx context.Context, store DraftStore, by algorithms.Actor) ([]Created, error) {
	drafts := make([]algorithms.NewDraft, len(imp.Drafts))
	for i, d := range imp.Drafts {
		drafts[i] = algorithms.NewDraft{Sheet: d.Sheet, Slug: d.Slug}
		if d.Answers != nil {
			drafts[i].Answers = *d.Answers
		}
	}
	algs, err := store.CreateDrafts(ctx, by, drafts)
	if err != nil {
		return nil, err
	}
	out := make([]Created, len(algs))
	for i, alg := range algs {
		out[i] = Created{Draft: imp.Drafts[i], AlgorithmID: alg.ID, Slug: alg.Slug}
	}
	return out, nil
}

// finish makes a mapped draft fit to be created: its language one the register holds,
// text tidied as the store will tidy it, invalid values dropped, named, and its risk
// answers limited to the questions the register asks.
func (d *Draft) finish(defs *risk.Definitions) error {
	lang := d.Sheet.Lang
	if !slices.Contains(algorithms.Languages, lang) {
		if lang == "" {
			return fmt.Errorf("no lang: say which language (%s) the entry is written in", strings.Join(algorithms.Languages, ", "))
		}
		return fmt.Errorf("lang %q: the register holds entries written in %s", lang, strings.Join(algorithms.Languages, ", "))
	}
	d.Skipped = append(d.Skipped, tidy(reflect.ValueOf(&d.Sheet).Elem(), "")...)
	dropped, err := sanitise(&d.Sheet)
	if err != nil {
		return err
	}
	d.Skipped = append(d.Skipped, dropped...)
	if strings.TrimSpace(d.Sheet.Name[lang]) == "" {
		for _, s := range dropped {
			if s.Field == "name" {
				return fmt.Errorf("name: %s", s.Reason)
			}
		}
		return fmt.Errorf("no name in the entry's language (%s): a draft needs one", lang)
	}
	if d.Answers != nil {
		var skipped, notes []Skipped
		d.Answers, skipped, notes = checkAnswers(*d.Answers, defs)
		d.Skipped, d.Notes = append(d.Skipped, skipped...), append(d.Notes, notes...)
	}
	return nil
}

var textType = reflect.TypeFor[algorithms.Text]()

// tidy trims every string and language map in v as the store does before it validates, so
// that Validate here judges the values the store will see. It reports text in a language
// the register does not hold, which the store would drop without a word.
func tidy(v reflect.Value, path string) []Skipped {
	var out []Skipped
	switch {
	case v.Type() == textType:
		t := v.Interface().(algorithms.Text)
		for _, l := range sortedKeys(t) {
			if !slices.Contains(algorithms.Languages, l) && strings.TrimSpace(t[l]) != "" {
				out = append(out, Skipped{path, fmt.Sprintf("text in %q: the register holds text in %s", l, strings.Join(algorithms.Languages, ", "))})
			}
		}
		if t = t.Clean(); len(t) > 0 {
			v.Set(reflect.ValueOf(t))
		} else {
			v.Set(reflect.Zero(textType))
		}
	case v.Kind() == reflect.String:
		v.SetString(strings.TrimSpace(v.String()))
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			out = append(out, tidy(v.Field(i), strings.TrimPrefix(path+"."+name, "."))...)
		}
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			out = append(out, tidy(v.Index(i), path+"."+strconv.Itoa(i))...)
		}
	}
	return out
}

// sanitise validates sheet and drops each value that breaks a rule, until none does: a
// too-long text loses only the languages that are too long, a too-long list its tail, a
// list of strings its bad items, anything else the whole value. It returns what it dropped.
func sanitise(sheet *algorithms.FactSheet) ([]Skipped, error) {
	var out []Skipped
	for range 8 {
		err := sheet.Validate()
		if err == nil {
			return out, nil
		}
		e, ok := apperr.As(err)
		if !ok || e.Code != apperr.Invalid {
			return out, err
		}
		paths := make([]string, 0, len(e.Fields))
		for p := range e.Fields {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		for _, p := range paths {
			v, ok := locate(reflect.ValueOf(sheet).Elem(), strings.Split(p, "."))
			if !ok || p == "lang" {
				return out, fmt.Errorf("%s: %s", p, e.Fields[p])
			}
			msg, args := e.Fields[p], e.FieldArgs[p]
			reason := msg
			if len(args) > 0 {
				reason = fmt.Sprintf(msg, args...)
			}
			out = append(out, Skipped{Field: p, Reason: reason + drop(v, msg, args)})
		}
	}
	return out, errors.New("the fact sheet stays invalid after dropping its invalid values")
}

// locate finds the value at a form path ("data_sources.0.open_data_url") in a struct.
func locate(v reflect.Value, path []string) (reflect.Value, bool) {
	for _, part := range path {
		switch v.Kind() {
		case reflect.Struct:
			i := jsonField(v.Type(), part)
			if i < 0 {
				return v, false
			}
			v = v.Field(i)
		case reflect.Slice:
			n, err := strconv.Atoi(part)
			if err != nil || n < 0 || n >= v.Len() {
				return v, false
			}
			v = v.Index(n)
		default:
			return v, false
		}
	}
	return v, true
}

// jsonField returns the index of t's field whose JSON name is name, or -1.
func jsonField(t reflect.Type, name string) int {
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag == name {
			return i
		}
	}
	return -1
}

// drop removes from v what broke the rule of msg, and says what it removed when that is
// less than the whole value.
func drop(v reflect.Value, msg string, args []any) string {
	limit := 0
	if len(args) > 0 {
		limit, _ = strconv.Atoi(fmt.Sprint(args[0]))
	}
	switch {
	case v.Type() == textType && limit > 0:
		t := v.Interface().(algorithms.Text)
		var langs []string
		for _, l := range algorithms.Languages {
			if utf8.RuneCountInString(t[l]) > limit {
				langs = append(langs, l)
				delete(t, l)
			}
		}
		return " (dropped the text in " + strings.Join(langs, ", ") + ")"
	case v.Kind() == reflect.Slice && strings.Contains(msg, "items") && limit > 0 && v.Len() > limit:
		v.Set(v.Slice(0, limit))
		return fmt.Sprintf(" (kept the first %d)", limit)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var kept, gone []string
		for _, s := range v.Interface().([]string) {
			// An item is too long (keywords) or not one of the options (special categories).
			if (limit > 0 && utf8.RuneCountInString(s) <= limit) || (limit == 0 && slices.Contains(algorithms.SpecialCategories, s)) {
				kept = append(kept, s)
			} else {
				gone = append(gone, strconv.Quote(s))
			}
		}
		v.Set(reflect.ValueOf(kept))
		return " (dropped " + strings.Join(gone, ", ") + ")"
	}
	v.Set(reflect.Zero(v.Type()))
	return ""
}

// checkAnswers keeps the answers to the questions and choices the register asks, and
// reports the rest. Answers to another version of the definitions are kept where the
// question still exists, with a note: the store stamps them with the current version.
func checkAnswers(a risk.Answers, defs *risk.Definitions) (*risk.Answers, []Skipped, []Skipped) {
	var skipped, notes []Skipped
	versions := []struct{ field, got, want, what string }{
		{"risk_assessment.checklist_version", a.ChecklistVersion, defs.Checklist.Version, "the EU AI Act checklist"},
		{"risk_assessment.impact_version", a.ImpactVersion, defs.Impact.Version, "the impact questionnaire"},
	}
	for _, v := range versions {
		if v.got != "" && v.got != v.want {
			notes = append(notes, Skipped{v.field, fmt.Sprintf("answered version %s of %s; the register asks version %s: check the answers", v.got, v.what, v.want)})
		}
	}
	// Stamped as the store will stamp them.
	out := risk.Answers{ChecklistVersion: defs.Checklist.Version, Checklist: map[string]bool{},
		ImpactVersion: defs.Impact.Version, Impact: map[string]string{},
		Exception63: a.Exception63, ExceptionJustification: strings.TrimSpace(a.ExceptionJustification)}
	known := map[string]bool{}
	for _, q := range defs.Checklist.Questions() {
		known[q.ID] = true
	}
	for _, id := range sortedKeys(a.Checklist) {
		if known[id] {
			out.Checklist[id] = a.Checklist[id]
		} else {
			skipped = append(skipped, Skipped{"risk_assessment.checklist." + id, "no such question in the checklist"})
		}
	}
	questions := map[string]risk.Question{}
	for _, q := range defs.Impact.Questions {
		questions[q.ID] = q
	}
	for _, id := range sortedKeys(a.Impact) {
		q, ok := questions[id]
		switch {
		case !ok:
			skipped = append(skipped, Skipped{"risk_assessment.impact." + id, "no such question in the impact questionnaire"})
		case !slices.ContainsFunc(q.Choices, func(c risk.Choice) bool { return c.ID == a.Impact[id] }):
			skipped = append(skipped, Skipped{"risk_assessment.impact." + id, fmt.Sprintf("no such choice: %q", a.Impact[id])})
		default:
			out.Impact[id] = a.Impact[id]
		}
	}
	if n := utf8.RuneCountInString(out.ExceptionJustification); n > maxJustification {
		skipped = append(skipped, Skipped{"risk_assessment.exception_justification", fmt.Sprintf("Use at most %d characters.", maxJustification)})
		out.ExceptionJustification = ""
	}
	if len(out.Checklist) == 0 && len(out.Impact) == 0 && !out.Exception63 && out.ExceptionJustification == "" {
		return nil, skipped, notes
	}
	return &out, skipped, notes
}

// maxJustification is the longest Article 6(3) justification the store accepts.
const maxJustification = 5000

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonError names the line of a JSON syntax error, which a person can find in an editor.
func jsonError(data []byte, err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) && syntax.Offset <= int64(len(data)) {
		line := 1 + bytes.Count(data[:syntax.Offset], []byte("\n"))
		return fmt.Errorf("not valid JSON (line %d): %v", line, err)
	}
	return fmt.Errorf("not valid JSON: %w", err)
}
