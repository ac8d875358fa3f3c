package publish

import (
	"encoding/xml"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/diff"
)

func TestParseRange(t *testing.T) {
	type result struct {
		a, b int
		ok   bool
	}
	for in, want := range map[string]result{
		"1..2": {1, 2, true}, "3..1": {3, 1, true}, "2..2": {2, 2, true}, "10..12": {10, 12, true},
		"1..": {}, "..2": {}, "0..1": {}, "1..0": {}, "-1..2": {}, "1...2": {}, "a..b": {}, "1.2": {}, "": {},
		"1..2..3": {}, "+1..2": {1, 2, true},
	} {
		a, b, ok := parseRange(in)
		if !ok {
			a, b = 0, 0
		}
		if got := (result{a, b, ok}); got != want {
			t.Errorf("parseRange(%q) = %+v, want %+v", in, got, want)
		}
	}
}

// TestAccessibleDiff checks that every change is labelled in words for screen readers and
// that text from a fact sheet cannot inject markup.
func TestAccessibleDiff(t *testing.T) {
	got := string(accessibleDiff(diff.Words("keep <old> & line\nend", "keep <new> & line\nend"), "added:", "removed:"))
	want := `keep &lt;<del><span class="visually-hidden">[removed: </span>old<span class="visually-hidden">]</span></del>` +
		`<ins><span class="visually-hidden">[added: </span>new<span class="visually-hidden">]</span></ins>&gt; &amp; line<br>end`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := string(accessibleDiff(diff.Words("same", "same"), "a", "r")); got != "same" {
		t.Errorf("no change: %q", got)
	}
	// The labels come from the catalogue, but are escaped all the same.
	if got := string(accessibleDiff([]diff.Op{{Kind: diff.Insert, Text: "x"}}, `"<b>`, "r")); strings.Contains(got, "<b>") {
		t.Errorf("label not escaped: %s", got)
	}
}

// TestNewestFirst checks the order of the register feed: newest first, ties broken by
// entry and then by number, newest number first.
func TestNewestFirst(t *testing.T) {
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	recs := []*algorithms.Record{
		{Slug: "b", Revision: 1, PublishedAt: at},
		{Slug: "a", Revision: 1, PublishedAt: at},
		{Slug: "a", Revision: 2, PublishedAt: at},
		{Slug: "c", Revision: 1, PublishedAt: at.Add(time.Microsecond)},
		{Slug: "d", Revision: 1, PublishedAt: at.Add(-time.Hour)},
	}
	slices.SortFunc(recs, newestFirst)
	var got []string
	for _, r := range recs {
		got = append(got, r.Slug+strconv.Itoa(r.Revision))
	}
	if strings.Join(got, " ") != "c1 a2 a1 b1 d1" {
		t.Errorf("order %v", got)
	}
}

// TestURNIsStable checks that a revision's feed ID depends only on the algorithm, the
// revision number and the language, and is a valid version 5 UUID URN.
func TestURNIsStable(t *testing.T) {
	const alg = "5b0f3c1e-8a41-4c57-9a43-0e6f6d1d2b10"
	a, b := urn(alg, "revision/2/ca"), urn(alg, "revision/2/ca")
	if a != b || a == urn(alg, "revision/2/es") || a == urn(alg, "revision/3/ca") ||
		a == urn("6b0f3c1e-8a41-4c57-9a43-0e6f6d1d2b10", "revision/2/ca") {
		t.Fatal("URNs are not a function of algorithm, revision and language")
	}
	if !strings.HasPrefix(a, "urn:uuid:") || len(a) != len("urn:uuid:")+36 || a[len("urn:uuid:")+14] != '5' {
		t.Errorf("not a version 5 UUID URN: %s", a)
	}
}

// TestAtomMarshal checks the document encoding/xml writes from the feed structs: the Atom
// namespace on the root, xml:lang, and escaped text.
func TestAtomMarshal(t *testing.T) {
	body, err := xml.Marshal(atomFeed{Lang: "ca", ID: "x", Title: `A & <b>"B"</b>`,
		Entries: []atomEntry{{Summary: atomText{Type: "text", Text: "1 < 2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	for _, want := range []string{`<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ca">`,
		`<title>A &amp; &lt;b&gt;&#34;B&#34;&lt;/b&gt;</title>`, `<summary type="text">1 &lt; 2</summary>`} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %s", s, want)
		}
	}
}
