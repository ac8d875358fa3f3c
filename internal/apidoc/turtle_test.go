package apidoc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A minimal Turtle reader, enough for what turtle() writes and for N-Triples (a subset of
// Turtle): prefixes, IRIs, prefixed names, "a", blank node labels, string literals with
// escapes, language tags and datatypes, and the ';' ',' '.' structure. It exists so that
// the tests read the document the way a harvester does instead of matching its text.

// triple holds terms in N-Triples form: <iri>, _:label, or a Go-quoted literal followed by
// @lang or ^^<datatype> (a plain literal gets ^^xsd:string, as in RDF 1.1).
type triple struct{ s, p, o string }

const xsdString = "http://www.w3.org/2001/XMLSchema#string"

type turtleReader struct {
	src      string
	pos      int
	prefixes map[string]string
	out      []triple
}

func parseTurtle(src string) ([]triple, error) {
	r := &turtleReader{src: src, prefixes: map[string]string{}}
	for {
		r.skip()
		if r.pos >= len(r.src) {
			return r.out, nil
		}
		if err := r.statement(); err != nil {
			line := strings.Count(r.src[:min(r.pos, len(r.src))], "\n") + 1
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
}

// skip passes white space and comments.
func (r *turtleReader) skip() {
	for r.pos < len(r.src) {
		switch c := r.src[r.pos]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			r.pos++
		case c == '#':
			for r.pos < len(r.src) && r.src[r.pos] != '\n' {
				r.pos++
			}
		default:
			return
		}
	}
}

func (r *turtleReader) expect(s string) error {
	r.skip()
	if !strings.HasPrefix(r.src[r.pos:], s) {
		return fmt.Errorf("want %q at %.20q", s, r.src[r.pos:])
	}
	r.pos += len(s)
	return nil
}

func (r *turtleReader) statement() error {
	if strings.HasPrefix(r.src[r.pos:], "@prefix") {
		r.pos += len("@prefix")
		r.skip()
		name, ok := r.word()
		if !ok || !strings.HasSuffix(name, ":") {
			return fmt.Errorf("bad prefix name %q", name)
		}
		r.skip()
		ns, err := r.iriRef()
		if err != nil {
			return err
		}
		r.prefixes[strings.TrimSuffix(name, ":")] = ns
		return r.expect(".")
	}
	subj, err := r.term(false)
	if err != nil {
		return err
	}
	if strings.HasPrefix(subj, `"`) {
		return fmt.Errorf("a literal as subject")
	}
	for {
		r.skip()
		pred, err := r.term(true)
		if err != nil {
			return err
		}
		for {
			obj, err := r.term(false)
			if err != nil {
				return err
			}
			r.out = append(r.out, triple{subj, pred, obj})
			r.skip()
			if r.pos < len(r.src) && r.src[r.pos] == ',' {
				r.pos++
				continue
			}
			break
		}
		r.skip()
		if r.pos < len(r.src) && r.src[r.pos] == ';' {
			r.pos++
			r.skip()
			if r.pos < len(r.src) && r.src[r.pos] == '.' { // a trailing ';' is allowed
				r.pos++
				return nil
			}
			continue
		}
		return r.expect(".")
	}
}

// word reads a prefixed name, "a" or a blank node label.
func (r *turtleReader) word() (string, bool) {
	start := r.pos
	for r.pos < len(r.src) {
		c := r.src[r.pos]
		if c == '.' && r.pos+1 < len(r.src) && isNameByte(r.src[r.pos+1]) {
			r.pos++ // a dot inside a name
			continue
		}
		if !isNameByte(c) && c != ':' {
			break
		}
		r.pos++
	}
	return r.src[start:r.pos], r.pos > start
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func (r *turtleReader) term(verb bool) (string, error) {
	r.skip()
	if r.pos >= len(r.src) {
		return "", fmt.Errorf("unexpected end")
	}
	switch r.src[r.pos] {
	case '<':
		iri, err := r.iriRef()
		return "<" + iri + ">", err
	case '"':
		return r.literal()
	}
	w, ok := r.word()
	switch {
	case !ok:
		return "", fmt.Errorf("unexpected %.20q", r.src[r.pos:])
	case w == "a" && verb:
		return "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", nil
	case strings.HasPrefix(w, "_:"):
		return w, nil
	}
	prefix, local, found := strings.Cut(w, ":")
	ns, known := r.prefixes[prefix]
	if !found || !known {
		return "", fmt.Errorf("unknown prefix in %q", w)
	}
	return "<" + ns + local + ">", nil
}

func (r *turtleReader) iriRef() (string, error) {
	if r.src[r.pos] != '<' {
		return "", fmt.Errorf("want an IRI at %.20q", r.src[r.pos:])
	}
	end := strings.IndexByte(r.src[r.pos:], '>')
	if end < 0 {
		return "", fmt.Errorf("unterminated IRI")
	}
	iri := r.src[r.pos+1 : r.pos+end]
	r.pos += end + 1
	if strings.ContainsAny(iri, " \t\n\"{}|^`<") {
		return "", fmt.Errorf("bad character in IRI %q", iri)
	}
	return unescapeU(iri)
}

// literal reads "…" with its escapes and an optional @lang or ^^datatype.
func (r *turtleReader) literal() (string, error) {
	r.pos++ // the opening quote
	if strings.HasPrefix(r.src[r.pos:], `""`) {
		return "", fmt.Errorf("long strings are not expected")
	}
	var b strings.Builder
	for {
		if r.pos >= len(r.src) {
			return "", fmt.Errorf("unterminated string")
		}
		c := r.src[r.pos]
		switch {
		case c == '"':
			r.pos++
			return r.suffix(b.String())
		case c == '\n' || c == '\r':
			return "", fmt.Errorf("raw line break in a string")
		case c == '\\':
			if err := r.escape(&b); err != nil {
				return "", err
			}
		default:
			ch, size := utf8.DecodeRuneInString(r.src[r.pos:])
			b.WriteRune(ch)
			r.pos += size
		}
	}
}

func (r *turtleReader) escape(b *strings.Builder) error {
	if r.pos+1 >= len(r.src) {
		return fmt.Errorf("bad escape")
	}
	e := r.src[r.pos+1]
	simple := map[byte]string{'t': "\t", 'b': "\b", 'n': "\n", 'r': "\r", 'f': "\f", '"': `"`, '\'': "'", '\\': `\`}
	if s, ok := simple[e]; ok {
		b.WriteString(s)
		r.pos += 2
		return nil
	}
	n := map[byte]int{'u': 4, 'U': 8}[e]
	if n == 0 || r.pos+2+n > len(r.src) {
		return fmt.Errorf("bad escape \\%c", e)
	}
	v, err := strconv.ParseUint(r.src[r.pos+2:r.pos+2+n], 16, 32)
	if err != nil {
		return err
	}
	b.WriteRune(rune(v))
	r.pos += 2 + n
	return nil
}

func (r *turtleReader) suffix(value string) (string, error) {
	q := strconv.Quote(value)
	switch {
	case strings.HasPrefix(r.src[r.pos:], "@"):
		r.pos++
		start := r.pos
		for r.pos < len(r.src) && (isNameByte(r.src[r.pos])) {
			r.pos++
		}
		return q + "@" + strings.ToLower(r.src[start:r.pos]), nil
	case strings.HasPrefix(r.src[r.pos:], "^^"):
		r.pos += 2
		dt, err := r.term(false)
		return q + "^^" + dt, err
	}
	return q + "^^<" + xsdString + ">", nil
}

func unescapeU(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	r := &turtleReader{src: s}
	var b strings.Builder
	for r.pos < len(s) {
		if s[r.pos] == '\\' {
			if err := r.escape(&b); err != nil {
				return "", err
			}
			continue
		}
		b.WriteByte(s[r.pos])
		r.pos++
	}
	return b.String(), nil
}

// expandJSONLD reads the JSON-LD the catalogue writes into triples, refusing any construct
// it does not know, so that the reading cannot be wrong by being lenient: a @context of
// prefixes, a @graph of nodes, objects that are {"@id"} or {"@value"} with @language or @type.
func expandJSONLD(data []byte) ([]triple, map[string]string, error) {
	var doc struct {
		Context map[string]string `json:"@context"`
		Graph   []map[string]any  `json:"@graph"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, err
	}
	expand := func(s string) string {
		if p, local, ok := strings.Cut(s, ":"); ok {
			if ns, known := doc.Context[p]; known {
				return ns + local
			}
		}
		return s
	}
	id := func(s string) string {
		if strings.HasPrefix(s, "_:") {
			return s
		}
		return "<" + expand(s) + ">"
	}
	var out []triple
	for _, n := range doc.Graph {
		subj, ok := n["@id"].(string)
		if !ok {
			return nil, nil, fmt.Errorf("a node without @id: %v", n)
		}
		for key, v := range n {
			if key == "@id" {
				continue
			}
			for _, val := range asList(v) {
				if key == "@type" {
					out = append(out, triple{id(subj), "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", id(val.(string))})
					continue
				}
				if !strings.Contains(key, ":") || expand(key) == key {
					return nil, nil, fmt.Errorf("key %q is not a known prefixed name", key)
				}
				o, err := jsonLDObject(val, id, expand)
				if err != nil {
					return nil, nil, fmt.Errorf("%s %s: %w", subj, key, err)
				}
				out = append(out, triple{id(subj), "<" + expand(key) + ">", o})
			}
		}
	}
	return out, doc.Context, nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func jsonLDObject(v any, id, expand func(string) string) (string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", fmt.Errorf("value %v is not an object", v)
	}
	if ref, ok := m["@id"].(string); ok && len(m) == 1 {
		return id(ref), nil
	}
	val, ok := m["@value"].(string)
	if !ok {
		return "", fmt.Errorf("value %v has neither @id nor a string @value", v)
	}
	lang, hasLang := m["@language"].(string)
	dt, hasType := m["@type"].(string)
	switch {
	case hasLang && !hasType && len(m) == 2:
		return strconv.Quote(val) + "@" + strings.ToLower(lang), nil
	case hasType && !hasLang && len(m) == 2:
		return strconv.Quote(val) + "^^<" + expand(dt) + ">", nil
	case len(m) == 1:
		return strconv.Quote(val) + "^^<" + xsdString + ">", nil
	}
	return "", fmt.Errorf("value %v has unexpected keys", v)
}

func sortedTriples(ts []triple) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.s + " " + t.p + " " + t.o
	}
	slices.Sort(out)
	return out
}
