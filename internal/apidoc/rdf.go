package apidoc

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// A small RDF graph with two writers, JSON-LD and Turtle. The catalogue is built once as a
// graph and written both ways, so the two serialisations cannot disagree.

// Namespaces of the vocabularies the catalogue uses.
const (
	nsDCAT  = "http://www.w3.org/ns/dcat#"
	nsDCT   = "http://purl.org/dc/terms/"
	nsFOAF  = "http://xmlns.com/foaf/0.1/"
	nsVCard = "http://www.w3.org/2006/vcard/ns#"
	nsXSD   = "http://www.w3.org/2001/XMLSchema#"
)

// prefixes are written in this order, and predicates and classes are shortened with them.
var prefixes = []struct{ name, ns string }{
	{"dcat", nsDCAT}, {"dct", nsDCT}, {"foaf", nsFOAF}, {"vcard", nsVCard}, {"xsd", nsXSD},
}

// term is an RDF term: an IRI, a blank node or a literal (with a language or a datatype).
type term struct {
	iri, blank     string
	lit            string
	isLit          bool
	lang, datatype string // for literals; a datatype is a full IRI
}

func iri(s string) term             { return term{iri: s} }
func blankNode(label string) term   { return term{blank: label} }
func text(s, lang string) term      { return term{lit: s, isLit: true, lang: lang} }
func literal(s string) term         { return term{lit: s, isLit: true} }
func typed(s, datatype string) term { return term{lit: s, isLit: true, datatype: datatype} }

// node is a subject with its classes and properties, in the order they were added.
type node struct {
	subject term
	types   []string
	props   []prop
}

type prop struct {
	pred string
	objs []term
}

type graph struct{ nodes []*node }

// add starts a node; subject is an IRI or a blank node.
func (g *graph) add(subject term, types ...string) *node {
	n := &node{subject: subject, types: types}
	g.nodes = append(g.nodes, n)
	return n
}

// set adds objects of pred, after any it has; a predicate with no objects is left out.
// One predicate stays one property, so that JSON-LD (one key per predicate) keeps them all.
func (n *node) set(pred string, objs ...term) *node {
	if len(objs) == 0 {
		return n
	}
	for i := range n.props {
		if n.props[i].pred == pred {
			n.props[i].objs = append(n.props[i].objs, objs...)
			return n
		}
	}
	n.props = append(n.props, prop{pred: pred, objs: objs})
	return n
}

// compact shortens an IRI with a known prefix when the rest is a plain name, and reports
// whether it could.
func compact(s string) (string, bool) {
	for _, p := range prefixes {
		if local, ok := strings.CutPrefix(s, p.ns); ok && plainName.MatchString(local) {
			return p.name + ":" + local, true
		}
	}
	return s, false
}

var (
	plainName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	langTag   = regexp.MustCompile(`^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$`)
	blankName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
)

// checkIRI refuses what an IRI reference may not hold in Turtle (IRIREF), so that a bad
// base address fails loudly instead of producing a document no parser reads.
func checkIRI(s string) error {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= 0x20 || strings.ContainsRune("<>\"{}|^`\\", r) }) {
		return fmt.Errorf("apidoc: %q is not a usable IRI", s)
	}
	return nil
}

func (t term) check() error {
	switch {
	case t.isLit && t.lang != "" && !langTag.MatchString(t.lang):
		return fmt.Errorf("apidoc: bad language tag %q", t.lang)
	case t.isLit && t.datatype != "":
		return checkIRI(t.datatype)
	case t.isLit:
		return nil
	case t.blank != "":
		if !blankName.MatchString(t.blank) {
			return fmt.Errorf("apidoc: bad blank node label %q", t.blank)
		}
		return nil
	}
	return checkIRI(t.iri)
}

func (g *graph) check() error {
	for _, n := range g.nodes {
		if err := n.subject.check(); err != nil {
			return err
		}
		if n.subject.isLit {
			return fmt.Errorf("apidoc: a literal cannot be a subject")
		}
		for _, t := range n.types {
			if err := checkIRI(t); err != nil {
				return err
			}
		}
		for _, p := range n.props {
			if err := checkIRI(p.pred); err != nil {
				return err
			}
			for _, o := range p.objs {
				if err := o.check(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// jsonLD writes the graph as flattened JSON-LD: a @context of the prefixes and a @graph of
// nodes, every object an explicit {"@id"} or {"@value"}, so no consumer depends on type
// coercion rules.
func (g *graph) jsonLD() ([]byte, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	ctx := obj()
	for _, p := range prefixes {
		ctx.set(p.name, p.ns)
	}
	nodes := make([]any, 0, len(g.nodes))
	for _, n := range g.nodes {
		o := obj("@id", n.subject.jsonID())
		if len(n.types) > 0 {
			types := make([]any, len(n.types))
			for i, t := range n.types {
				types[i], _ = compact(t)
			}
			o.set("@type", oneOrMany(types))
		}
		for _, p := range n.props {
			objs := make([]any, len(p.objs))
			for i, t := range p.objs {
				objs[i] = t.jsonLD()
			}
			key, _ := compact(p.pred)
			o.set(key, oneOrMany(objs))
		}
		nodes = append(nodes, o)
	}
	return marshalDocument(obj("@context", ctx, "@graph", nodes))
}

func oneOrMany(v []any) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

func (t term) jsonID() string {
	if t.blank != "" {
		return "_:" + t.blank
	}
	return t.iri
}

func (t term) jsonLD() any {
	switch {
	case !t.isLit:
		return obj("@id", t.jsonID())
	case t.lang != "":
		return obj("@value", t.lit, "@language", t.lang)
	case t.datatype != "":
		dt, _ := compact(t.datatype)
		return obj("@value", t.lit, "@type", dt)
	}
	return obj("@value", t.lit)
}

// turtle writes the graph in Turtle: the prefixes, then one block per subject with its
// predicates separated by ";" and the objects of one predicate by ",".
func (g *graph) turtle() ([]byte, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, p := range prefixes {
		fmt.Fprintf(&b, "@prefix %s: <%s> .\n", p.name, p.ns)
	}
	for _, n := range g.nodes {
		b.WriteString("\n")
		b.WriteString(n.subject.turtle())
		sep := " "
		if len(n.types) > 0 {
			b.WriteString(" a ")
			for i, t := range n.types {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(turtleIRI(t))
			}
			sep = " ;\n    "
		}
		for _, p := range n.props {
			b.WriteString(sep)
			sep = " ;\n    "
			b.WriteString(turtleIRI(p.pred))
			for i, o := range p.objs {
				if i > 0 {
					b.WriteString(",\n       ")
				}
				b.WriteString(" ")
				b.WriteString(o.turtle())
			}
		}
		b.WriteString(" .\n")
	}
	return b.Bytes(), nil
}

// turtleIRI writes a predicate or class as a prefixed name where it can.
func turtleIRI(s string) string {
	if c, ok := compact(s); ok {
		return c
	}
	return "<" + s + ">"
}

func (t term) turtle() string {
	switch {
	case t.blank != "":
		return "_:" + t.blank
	case !t.isLit:
		return "<" + t.iri + ">"
	case t.lang != "":
		return turtleString(t.lit) + "@" + t.lang
	case t.datatype != "":
		return turtleString(t.lit) + "^^" + turtleIRI(t.datatype)
	}
	return turtleString(t.lit)
}

// turtleString quotes s as a Turtle STRING_LITERAL_QUOTE: backslash, double quote and the
// line breaks must be escaped (ECHAR); other control characters are escaped too (UCHAR),
// so that the document stays readable and survives any text tool.
func turtleString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
