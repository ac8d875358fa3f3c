// Package demo holds the register's demo content: realistic algorithms of a city council
// like Barcelona's, each with its fact sheet, its risk assessment answers, the state the demo
// should leave it in and, for some, later revisions. The entries are JSON files embedded from
// data/ (one file per entry, named NN-slug.json); a seeder decodes them into the register's
// own types and drives them through the ordinary workflow.
package demo

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed data/*.json
var files embed.FS

// The demo accounts that own entries.
const (
	Author  = "author@demo.example"
	Author2 = "author2@demo.example"
)

// The states an entry can be left in.
const (
	StatePublished        = "published"
	StateInReview         = "in_review"
	StateChangesRequested = "changes_requested"
	StateDraft            = "draft"
	// StateRetired: published, then retired. The entry's last update is the retirement
	// revision (status "retired" with end_date and end_reason).
	StateRetired = "retired"
)

// States lists every valid Entry.State.
var States = []string{StatePublished, StateInReview, StateChangesRequested, StateDraft, StateRetired}

// Entry is one demo algorithm: its fact sheet, risk answers and the state the demo should put it in.
type Entry struct {
	Slug  string `json:"slug"`
	Owner string `json:"owner"` // Author or Author2
	State string `json:"state"` // one of States
	// FactSheet is the first revision, decoded by the caller into algorithms.FactSheet.
	FactSheet json.RawMessage `json:"fact_sheet"`
	// Risk is the risk assessment (risk.Answers), answered against the current question sets.
	Risk json.RawMessage `json:"risk"`
	// Conditions are the public conditions the ethics committee attached to the approval of
	// a published (or retired) entry, in the entry's original language.
	Conditions string `json:"conditions,omitempty"`
	// Updates are later revisions 2, 3…, each a patch of a few top-level fact-sheet fields
	// with a revision_note. A field in a patch replaces the whole field (a language map is
	// replaced, not merged); Revisions applies them. Updates are published one after the
	// other; for StateRetired the last one is the retirement. For the other states the
	// entry's final state applies to the last revision (e.g. in_review: revisions before the
	// last are published, the last is in review).
	Updates []json.RawMessage `json:"updates,omitempty"`
}

// Entries returns every demo entry, sorted by file name.
func Entries() ([]Entry, error) {
	names, err := fs.Glob(files, "data/*.json") // sorted
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, 0, len(names))
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var e Entry
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("demo: %s: %w", name, err)
		}
		if want := slugFromFile(name); e.Slug != want {
			return nil, fmt.Errorf("demo: %s: slug %q does not match the file name (want %q)", name, e.Slug, want)
		}
		if !slices.Contains(States, e.State) {
			return nil, fmt.Errorf("demo: %s: unknown state %q", name, e.State)
		}
		if e.Owner != Author && e.Owner != Author2 {
			return nil, fmt.Errorf("demo: %s: unknown owner %q", name, e.Owner)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// slugFromFile returns the slug part of "data/NN-slug.json".
func slugFromFile(name string) string {
	base := strings.TrimSuffix(path.Base(name), ".json")
	if _, slug, ok := strings.Cut(base, "-"); ok {
		return slug
	}
	return base
}

// Revisions returns the full fact sheet of every revision in order: the first is FactSheet,
// each next one the previous with the next update applied (its top-level fields replacing
// the previous ones).
func (e Entry) Revisions() ([]json.RawMessage, error) {
	var sheet map[string]json.RawMessage
	if err := json.Unmarshal(e.FactSheet, &sheet); err != nil {
		return nil, fmt.Errorf("demo: %s: fact_sheet: %w", e.Slug, err)
	}
	revs := []json.RawMessage{e.FactSheet}
	for i, u := range e.Updates {
		var patch map[string]json.RawMessage
		if err := json.Unmarshal(u, &patch); err != nil {
			return nil, fmt.Errorf("demo: %s: update %d: %w", e.Slug, i+1, err)
		}
		for k, v := range patch {
			sheet[k] = v
		}
		// A change note belongs to one revision only.
		if _, ok := patch["revision_note"]; !ok {
			delete(sheet, "revision_note")
		}
		b, err := json.Marshal(sheet)
		if err != nil {
			return nil, err
		}
		revs = append(revs, b)
	}
	return revs, nil
}
