package apidoc

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hostileGraph holds literals that need every kind of escape.
func hostileGraph() (*graph, []string) {
	values := []string{
		`plain`, `say "hi"`, `back\slash`, "two\nlines", "cr\rlf", "tab\there", "bell\x07 and del\x7f",
		"Catalan l·l, accents àéïòú, emoji 🚲", `\u0041 is not an escape`, `ends with backslash \`, `""" triple`, "# not a comment",
	}
	g := &graph{}
	n := g.add(iri("https://x.test/#s"), nsDCAT+"Dataset")
	for i, v := range values {
		switch i % 3 {
		case 0:
			n.set(nsDCT+"title", text(v, "ca"))
		case 1:
			n.set(nsDCT+"description", literal(v))
		default:
			n.set(nsDCT+"identifier", typed(v, nsXSD+"string"))
		}
	}
	return g, values
}

func TestTurtleStringEscapes(t *testing.T) {
	for in, want := range map[string]string{
		`a"b`:      `"a\"b"`,
		`a\b`:      `"a\\b"`,
		"a\nb":     `"a\nb"`,
		"a\rb":     `"a\rb"`,
		"a\tb":     `"a\tb"`,
		"a\x00b":   `"a\u0000b"`,
		"a\x1fb":   `"a\u001Fb"`,
		"l·l 🚲":    `"l·l 🚲"`,
		"bad\xffx": "\"bad\uFFFDx\"",
	} {
		if got := turtleString(in); got != want {
			t.Errorf("turtleString(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestTurtleRoundTrip writes hostile literals and reads them back: the Turtle and the
// JSON-LD give the same triples, and each value survives unchanged.
func TestTurtleRoundTrip(t *testing.T) {
	g, values := hostileGraph()
	ttl, err := g.turtle()
	if err != nil {
		t.Fatal(err)
	}
	fromTurtle, err := parseTurtle(string(ttl))
	if err != nil {
		t.Fatalf("%v\n%s", err, ttl)
	}
	ld, err := g.jsonLD()
	if err != nil {
		t.Fatal(err)
	}
	fromJSONLD, _, err := expandJSONLD(ld)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sortedTriples(fromJSONLD), sortedTriples(fromTurtle)); diff != "" {
		t.Errorf("Turtle and JSON-LD disagree (-jsonld +turtle):\n%s", diff)
	}
	joined := strings.Join(sortedTriples(fromTurtle), "\n")
	for _, v := range values {
		if !strings.Contains(joined, strconv.Quote(v)) {
			t.Errorf("value %q did not survive the round trip:\n%s", v, ttl)
		}
	}
	checkWithRapper(t, ttl, fromTurtle)
}

// checkWithRapper has Raptor, an independent parser, read the Turtle (when it is
// installed: apt-get install raptor2-utils) and compares its triples with ours, blank node
// labels aside.
func checkWithRapper(t *testing.T, ttl []byte, ours []triple) {
	t.Helper()
	path, err := exec.LookPath("rapper")
	if err != nil {
		t.Log("rapper is not installed: the independent Turtle check is skipped")
		return
	}
	cmd := exec.Command(path, "-q", "-i", "turtle", "-o", "ntriples", "-", "http://base.test/")
	cmd.Stdin = strings.NewReader(string(ttl))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rapper refused the Turtle: %v\n%s", err, ttl)
	}
	theirs, err := parseTurtle(string(out))
	if err != nil {
		t.Fatalf("reading rapper's N-Triples: %v\n%s", err, out)
	}
	if diff := cmp.Diff(anonymous(ours), anonymous(theirs)); diff != "" {
		t.Errorf("rapper reads other triples (-ours +rapper):\n%s", diff)
	}
}

func anonymous(ts []triple) []string {
	blank := func(s string) string {
		if strings.HasPrefix(s, "_:") {
			return "_:"
		}
		return s
	}
	out := make([]triple, len(ts))
	for i, tr := range ts {
		out[i] = triple{blank(tr.s), tr.p, blank(tr.o)}
	}
	return sortedTriples(out)
}

func TestGraphRefusesBadTerms(t *testing.T) {
	for name, g := range map[string]*graph{
		"space in IRI":     {nodes: []*node{{subject: iri("https://x.test/a b")}}},
		"angle in object":  {nodes: []*node{{subject: iri("https://x.test/"), props: []prop{{nsDCT + "title", []term{iri("https://x.test/<x>")}}}}}},
		"bad language tag": {nodes: []*node{{subject: iri("https://x.test/"), props: []prop{{nsDCT + "title", []term{text("x", "c a")}}}}}},
		"bad blank label":  {nodes: []*node{{subject: blankNode("a b")}}},
		"literal subject":  {nodes: []*node{{subject: literal("x")}}},
	} {
		if _, err := g.turtle(); err == nil {
			t.Errorf("%s: turtle() accepted it", name)
		}
		if _, err := g.jsonLD(); err == nil {
			t.Errorf("%s: jsonLD() accepted it", name)
		}
	}
}
