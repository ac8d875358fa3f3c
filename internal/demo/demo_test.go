package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func entries(t *testing.T) []Entry {
	t.Helper()
	es, err := Entries()
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the top-level value")
	}
	return nil
}

// sheets decodes every revision of e strictly.
func sheets(t *testing.T, e Entry) []algorithms.FactSheet {
	t.Helper()
	revs, err := e.Revisions()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]algorithms.FactSheet, len(revs))
	for i, r := range revs {
		if err := decodeStrict(r, &out[i]); err != nil {
			t.Fatalf("%s: revision %d: %v", e.Slug, i+1, err)
		}
	}
	return out
}

func TestEntries(t *testing.T) {
	es := entries(t)
	if len(es) < 12 {
		t.Fatalf("got %d entries, want at least 12", len(es))
	}
	seen := map[string]bool{}
	for _, e := range es {
		if !slugPattern.MatchString(e.Slug) {
			t.Errorf("slug %q is not URL-safe", e.Slug)
		}
		if seen[e.Slug] {
			t.Errorf("duplicate slug %q", e.Slug)
		}
		seen[e.Slug] = true
		if e.Owner != Author && e.Owner != Author2 {
			t.Errorf("%s: owner %q", e.Slug, e.Owner)
		}
		if !slices.Contains(States, e.State) {
			t.Errorf("%s: state %q", e.Slug, e.State)
		}
		public := e.State == StatePublished || e.State == StateRetired
		if public != (strings.TrimSpace(e.Conditions) != "") {
			t.Errorf("%s: state %s with conditions %q: only published entries carry conditions", e.Slug, e.State, e.Conditions)
		}
	}
	for _, state := range States {
		if !slices.ContainsFunc(es, func(e Entry) bool { return e.State == state }) {
			t.Errorf("no entry in state %s", state)
		}
	}
}

func TestUpdatesArePatches(t *testing.T) {
	for _, e := range entries(t) {
		for i, u := range e.Updates {
			var patch algorithms.FactSheet
			if err := decodeStrict(u, &patch); err != nil {
				t.Errorf("%s: update %d: %v", e.Slug, i+1, err)
				continue
			}
			if patch.RevisionNote.Empty() {
				t.Errorf("%s: update %d has no revision_note", e.Slug, i+1)
			}
			var fields map[string]any
			if err := json.Unmarshal(u, &fields); err != nil {
				t.Fatal(err)
			}
			if len(fields) < 2 {
				t.Errorf("%s: update %d changes nothing but the revision note", e.Slug, i+1)
			}
		}
	}
}

func TestRevisions(t *testing.T) {
	e := Entry{
		Slug:      "x",
		FactSheet: json.RawMessage(`{"name":{"ca":"A"},"goal":{"ca":"G","es":"G"},"revision_note":{"ca":"1"}}`),
		Updates: []json.RawMessage{
			json.RawMessage(`{"goal":{"ca":"G2"},"revision_note":{"ca":"2"}}`),
			json.RawMessage(`{"name":{"ca":"B"}}`),
		},
	}
	revs, err := e.Revisions()
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	for _, r := range revs {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	want := []map[string]any{
		{"name": map[string]any{"ca": "A"}, "goal": map[string]any{"ca": "G", "es": "G"}, "revision_note": map[string]any{"ca": "1"}},
		{"name": map[string]any{"ca": "A"}, "goal": map[string]any{"ca": "G2"}, "revision_note": map[string]any{"ca": "2"}},
		{"name": map[string]any{"ca": "B"}, "goal": map[string]any{"ca": "G2"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Revisions (-want +got):\n%s", diff)
	}
}

func TestFactSheets(t *testing.T) {
	es := entries(t)
	langs := map[string]int{}
	for _, e := range es {
		revs := sheets(t, e)
		first, last := revs[0], revs[len(revs)-1]
		langs[first.Lang]++
		for i, fs := range revs {
			where := fmt.Sprintf("%s rev %d", e.Slug, i+1)
			if fs.Lang != first.Lang {
				t.Errorf("%s: lang changed from %q to %q", where, first.Lang, fs.Lang)
			}
			checkSheet(t, where, fs)
		}
		if (e.State == StateRetired) != (last.Status == "retired") {
			t.Errorf("%s: state %s but status %q", e.Slug, e.State, last.Status)
		}
		if e.State == StateRetired {
			if first.Status == "retired" {
				t.Errorf("%s: the first revision must be the published one, not the retirement", e.Slug)
			}
			if last.EndDate == "" || last.EndReason[last.Lang] == "" {
				t.Errorf("%s: retired without end_date or end_reason", e.Slug)
			}
		}
	}
	for _, l := range algorithms.Languages {
		if langs[l] == 0 {
			t.Errorf("no entry written originally in %q", l)
		}
	}
}

// checkSheet checks one full fact sheet: required fields, lengths and formats from the
// struct tags, enumerations and the conventions of the demo content.
func checkSheet(t *testing.T, where string, fs algorithms.FactSheet) {
	t.Helper()
	if !slices.Contains(algorithms.Languages, fs.Lang) {
		t.Fatalf("%s: lang %q", where, fs.Lang)
	}
	// The register's own rules: what every save and every submission must meet.
	if err := fs.Validate(); err != nil {
		t.Errorf("%s: Validate: %v", where, err)
	}
	if missing := fs.Missing(); len(missing) > 0 {
		t.Errorf("%s: Missing: %+v", where, missing)
	}
	v := reflect.ValueOf(fs)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !strings.Contains(f.Tag.Get("submit"), "required") {
			continue
		}
		switch x := v.Field(i).Interface().(type) {
		case algorithms.Text:
			if strings.TrimSpace(x[fs.Lang]) == "" {
				t.Errorf("%s: required %s has no %q text", where, f.Tag.Get("json"), fs.Lang)
			}
		case string:
			if x == "" {
				t.Errorf("%s: required %s is empty", where, f.Tag.Get("json"))
			}
		}
	}
	checkTags(t, where, fs.Lang, v)

	if n := utf8.RuneCountInString(fs.Description[fs.Lang]); n < 500 || n > 10000 {
		t.Errorf("%s: description has %d characters in %q, want 500–10,000", where, n, fs.Lang)
	}
	for l, s := range fs.DescriptionShort {
		if n := utf8.RuneCountInString(s); n > 150 {
			t.Errorf("%s: description_short has %d characters in %q", where, n, l)
		}
	}

	enum := func(field, value string, list []string) {
		if !slices.Contains(list, value) {
			t.Errorf("%s: %s %q is not one of %q", where, field, value, list)
		}
	}
	enum("domain", fs.Domain, algorithms.Domains)
	enum("status", fs.Status, algorithms.Statuses)
	enum("algorithm_type", fs.AlgorithmType, algorithms.AlgorithmTypes)
	enum("type", fs.Type, algorithms.Types)
	for _, ds := range fs.DataSources {
		for _, c := range ds.SpecialCategories {
			enum("special category", c, algorithms.SpecialCategories)
		}
		if ds.SpecialCategories != nil && !ds.PersonalData {
			t.Errorf("%s: data source %q has special categories but no personal data", where, ds.Name[fs.Lang])
		}
	}
	for _, ia := range fs.ImpactAssessments {
		enum("impact assessment kind", ia.Kind, algorithms.ImpactAssessmentKinds)
		if ia.Done != ia.ReasonNotDone.Empty() { // done ⇔ no reason given
			t.Errorf("%s: %s assessment: done=%v with reason_not_done %q", where, ia.Kind, ia.Done, ia.ReasonNotDone)
		}
	}

	if !strings.HasSuffix(fs.ContactEmail, "@bcn.example") {
		t.Errorf("%s: contact_email %q is not at bcn.example", where, fs.ContactEmail)
	}
	if fs.OrganizationID != "L01080193" {
		t.Errorf("%s: organization_id %q", where, fs.OrganizationID)
	}
	if !strings.HasPrefix(fs.RevisionDate, "2027-") {
		t.Errorf("%s: revision_date %q is not in 2027", where, fs.RevisionDate)
	}
	if fs.RevisionNote.Empty() {
		t.Errorf("%s: no revision_note", where)
	}
	if (fs.Status == "retired") != (fs.EndDate != "") {
		t.Errorf("%s: status %q with end_date %q", where, fs.Status, fs.EndDate)
	}
	if fs.StartDate != "" && fs.EndDate != "" && fs.EndDate < fs.StartDate {
		t.Errorf("%s: ends %s before it starts %s", where, fs.EndDate, fs.StartDate)
	}
}

// checkTags walks v and checks the validate rules the demo content can break: textmax and
// max lengths, weburl, isodate and email formats; and that every non-empty Text has the
// original language and only known languages.
func checkTags(t *testing.T, where, lang string, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name := f.Tag.Get("json")
		name, _, _ = strings.Cut(name, ",")
		fw := where + ": " + name
		rules := strings.Split(f.Tag.Get("validate"), ",")
		elemRules := []string{}
		if j := slices.Index(rules, "dive"); j >= 0 {
			rules, elemRules = rules[:j], rules[j+1:]
		}
		fv := v.Field(i)
		switch x := fv.Interface().(type) {
		case algorithms.Text:
			checkText(t, fw, lang, x, rules)
		case string:
			checkString(t, fw, x, rules)
		case []string:
			checkLen(t, fw, len(x), rules)
			for _, s := range x {
				checkString(t, fw, s, elemRules)
			}
		default:
			switch fv.Kind() {
			case reflect.Struct:
				checkTags(t, fw, lang, fv)
			case reflect.Slice:
				checkLen(t, fw, fv.Len(), rules)
				for j := range fv.Len() {
					checkTags(t, fmt.Sprintf("%s[%d]", fw, j), lang, fv.Index(j))
				}
			}
		}
	}
}

func ruleValue(rules []string, name string) (int, bool) {
	for _, r := range rules {
		if v, ok := strings.CutPrefix(r, name+"="); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil
		}
	}
	return 0, false
}

func checkLen(t *testing.T, where string, n int, rules []string) {
	t.Helper()
	if m, ok := ruleValue(rules, "max"); ok && n > m {
		t.Errorf("%s: %d items, at most %d", where, n, m)
	}
}

func checkText(t *testing.T, where, lang string, x algorithms.Text, rules []string) {
	t.Helper()
	if x.Empty() {
		return
	}
	if strings.TrimSpace(x[lang]) == "" {
		t.Errorf("%s: has translations but no text in the original language %q", where, lang)
	}
	for l, s := range x {
		if !slices.Contains(algorithms.Languages, l) {
			t.Errorf("%s: unknown language %q", where, l)
		}
		if strings.TrimSpace(s) == "" {
			t.Errorf("%s: blank %q text", where, l)
		}
		if m, ok := ruleValue(rules, "textmax"); ok && utf8.RuneCountInString(s) > m {
			t.Errorf("%s: %d characters in %q, at most %d", where, utf8.RuneCountInString(s), l, m)
		}
	}
}

func checkString(t *testing.T, where, s string, rules []string) {
	t.Helper()
	if s == "" {
		return
	}
	if m, ok := ruleValue(rules, "max"); ok && utf8.RuneCountInString(s) > m {
		t.Errorf("%s: %d characters, at most %d", where, utf8.RuneCountInString(s), m)
	}
	for _, r := range rules {
		switch r {
		case "weburl":
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				t.Errorf("%s: %q is not a web URL", where, s)
			}
		case "isodate":
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				t.Errorf("%s: %q is not a YYYY-MM-DD date", where, s)
			}
		case "email":
			if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
				t.Errorf("%s: %q is not an e-mail address", where, s)
			}
		}
	}
}

// texts returns every Text in v, recursively.
func texts(v reflect.Value) []algorithms.Text {
	var out []algorithms.Text
	switch x := v.Interface().(type) {
	case algorithms.Text:
		return []algorithms.Text{x}
	case string, []string:
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			out = append(out, texts(v.Field(i))...)
		}
	case reflect.Slice:
		for i := range v.Len() {
			out = append(out, texts(v.Index(i))...)
		}
	}
	return out
}

func trilingual(fs algorithms.FactSheet) bool {
	for _, x := range texts(reflect.ValueOf(fs)) {
		if x.Empty() {
			continue
		}
		for _, l := range algorithms.Languages {
			if strings.TrimSpace(x[l]) == "" {
				return false
			}
		}
	}
	return true
}

func TestTranslations(t *testing.T) {
	var full []string
	for _, e := range entries(t) {
		all := true
		for _, fs := range sheets(t, e) {
			all = all && trilingual(fs)
		}
		if all {
			full = append(full, e.Slug)
		}
	}
	t.Logf("entries in all three languages: %v", full)
	if len(full) < 5 {
		t.Errorf("%d entries are complete in ca, es and en (%v), want at least 5", len(full), full)
	}
}

func TestRisk(t *testing.T) {
	defs, err := risk.Load()
	if err != nil {
		t.Fatal(err)
	}
	tiers := map[string]int{}
	levels := map[int]int{}
	for _, e := range entries(t) {
		var a risk.Answers
		if err := decodeStrict(e.Risk, &a); err != nil {
			t.Errorf("%s: risk: %v", e.Slug, err)
			continue
		}
		r := defs.Assess(a)
		if len(r.Missing) > 0 || len(r.Unknown) > 0 || r.VersionMismatch {
			t.Errorf("%s: incomplete assessment: missing %v, unknown %v, version mismatch %v", e.Slug, r.Missing, r.Unknown, r.VersionMismatch)
		}
		if r.Tier == risk.Unacceptable || !r.Submittable {
			t.Errorf("%s: tier %s, submittable %v", e.Slug, r.Tier, r.Submittable)
		}
		if a.Exception63 && !r.ExceptionClaimed {
			t.Errorf("%s: claims the Article 6(3) exception outside an Annex III area", e.Slug)
		}
		tiers[r.Tier]++
		levels[r.Level]++
		lang := sheets(t, e)[0].Lang
		t.Logf("%-34s %s %-17s %-12s %-3s impact %2d/%d mitigation %2d/%d exception %v",
			e.Slug, lang, e.State, r.Tier, r.LevelName(), r.ImpactScore, r.ImpactMax, r.MitigationScore, r.MitigationMax, r.ExceptionClaimed)
	}
	for _, tier := range []string{risk.Minimal, risk.Limited, risk.High} {
		if tiers[tier] == 0 {
			t.Errorf("no entry of tier %s", tier)
		}
	}
	for lvl := 1; lvl <= 4; lvl++ {
		if levels[lvl] == 0 {
			t.Errorf("no entry of impact level %d", lvl)
		}
	}
}
