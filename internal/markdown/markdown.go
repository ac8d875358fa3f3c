// Package markdown renders the Markdown fact sheets written by city staff
// into HTML that is safe to embed in html/template pages, and into plain text
// for search snippets, meta descriptions and Atom summaries.
//
// Safety model:
//   - raw HTML (blocks and inline) is never emitted (html.WithUnsafe is not set,
//     and the "<!-- raw HTML omitted -->" placeholders are dropped too);
//   - an AST transformer (linkPolicy) checks every link, image and autolink
//     destination after Markdown decoding and removes any whose scheme is not
//     http, https or mailto (images: only relative URLs survive);
//   - the renderers for links, images and code blocks are replaced so that the
//     checked destination is exactly what is written, and user text inside
//     attribute values (title, alt, code language) cannot look like markup.
package markdown

import (
	"bytes"
	"html"
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Both instances are built once; goldmark.Markdown is safe for concurrent use.
var (
	blockMD  = newMarkdown(false)
	inlineMD = newMarkdown(true)
)

// Headings deliberately get NO id attributes: neither parser.WithAutoHeadingID
// nor parser.WithAttribute ({#id} / {onclick=...} syntax) is enabled. User
// controlled ids could clobber page anchors or named DOM globals
// (DOM clobbering); fact sheets are short, so in-page anchors are not needed.
func newMarkdown(inline bool) goldmark.Markdown {
	p := goldmark.DefaultParser()
	exts := []goldmark.Extender{extension.Strikethrough, extension.Linkify}
	if inline {
		// Short fields: paragraphs only, so "2024. A good year" or "# 1" stay text.
		p = parser.NewParser(
			parser.WithBlockParsers(util.Prioritized(parser.NewParagraphParser(), 1000)),
			parser.WithInlineParsers(parser.DefaultInlineParsers()...),
		)
	} else {
		// align="..." rather than style="text-align:...": the site CSP
		// (style-src 'self') blocks style attributes.
		exts = append(exts, extension.NewTable(
			extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)))
	}
	return goldmark.New(
		goldmark.WithParser(p),
		goldmark.WithExtensions(exts...),
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkPolicy{}, 1000))),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(safeRenderer{inline: inline}, 100))),
	)
}

// Render converts CommonMark + GFM tables, strikethrough and autolinks to safe HTML.
func Render(src string) template.HTML { return render(blockMD, src) }

// RenderInline renders a single line without a wrapping <p> (for short
// fields). Line breaks are turned into spaces and block syntax is not parsed.
func RenderInline(src string) template.HTML {
	lines := strings.FieldsFunc(src, func(r rune) bool { return r == '\n' || r == '\r' })
	return render(inlineMD, strings.Join(lines, " "))
}

func render(m goldmark.Markdown, src string) template.HTML {
	var buf bytes.Buffer
	if err := m.Convert([]byte(src), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(src)) //nolint:gosec // escaped
	}
	// Safe: no raw HTML, vetted URLs, every user string escaped (see package doc).
	return template.HTML(buf.String()) //nolint:gosec // sanitised above
}

// PlainText returns the text without markup, whitespace collapsed.
func PlainText(src string) string {
	source := []byte(src)
	return plainText(blockMD.Parser().Parse(text.NewReader(source)), source)
}

func plainText(root ast.Node, src []byte) string {
	var b bytes.Buffer
	_ = ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if n.Type() == ast.TypeBlock {
			b.WriteByte(' ') // separate paragraphs, list items, table cells
		}
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Text:
			if n.IsRaw() {
				b.Write(n.Value(src))
			} else {
				b.Write(unescapeMD(n.Value(src)))
			}
			b.WriteByte(' ')
			if !n.SoftLineBreak() && !n.HardLineBreak() {
				b.Truncate(b.Len() - 1)
			}
		case *ast.String:
			if n.IsRaw() || n.IsCode() {
				b.Write(n.Value)
			} else {
				b.Write(unescapeMD(n.Value))
			}
		case *ast.AutoLink:
			b.Write(n.Label(src))
		case *ast.RawHTML, *ast.HTMLBlock:
			return ast.WalkSkipChildren, nil
		case *ast.CodeBlock, *ast.FencedCodeBlock:
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				b.Write(seg.Value(src))
			}
		}
		return ast.WalkContinue, nil
	})
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(b.String(), "\uFFFD"))
	return strings.Join(strings.Fields(s), " ")
}

// unescapeMD resolves backslash escapes and entity references like goldmark does.
func unescapeMD(b []byte) []byte {
	return util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(b)))
}

type urlKind int

const (
	urlBad   urlKind = iota
	urlLocal         // relative: "/x", "#x", "./x", "x.html", "?q"
	urlMail          // mailto:
	urlWeb           // http:, https:, or protocol-relative "//host"
)

// classify decides what a (Markdown-decoded) destination is. It is an
// allow-list: after decoding entities and percent-escapes (repeatedly),
// dropping whitespace/control/format characters and lowercasing, only
// http, https and mailto schemes or scheme-less URLs are accepted.
func classify(dest []byte) urlKind {
	s, ok := normalizeURL(string(dest))
	if !ok {
		return urlBad
	}
	if strings.HasPrefix(s, "//") {
		return urlWeb
	}
	i := strings.IndexAny(s, ":/?#")
	if i < 0 || s[i] != ':' {
		return urlLocal
	}
	switch s[:i] {
	case "http", "https":
		return urlWeb
	case "mailto":
		return urlMail
	}
	return urlBad
}

func normalizeURL(s string) (string, bool) {
	for range 8 {
		prev := s
		s = strings.Map(func(r rune) rune {
			switch {
			case r <= ' ', r == utf8.RuneError, unicode.IsSpace(r), unicode.IsControl(r), unicode.Is(unicode.Cf, r):
				return -1
			case r == '\\': // browsers treat "\" like "/" in http(s) URLs
				return '/'
			}
			return unicode.ToLower(r)
		}, percentDecode(html.UnescapeString(s)))
		if s == prev {
			return s, true
		}
	}
	return "", false // still changing: absurdly nested encoding, reject
}

func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	unhex := func(c byte) (byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', true
		case 'a' <= c && c <= 'f':
			return c - 'a' + 10, true
		case 'A' <= c && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

const relExternal = "nofollow noopener"

// linkPolicy is the AST transformer that enforces the URL allow-list.
type linkPolicy struct{}

func (linkPolicy) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	var fix []func()
	_ = ast.Walk(doc, func(node ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := node.(type) {
		case *ast.Link:
			// Decode once, here; the renderer writes Destination verbatim (escaped).
			n.Destination = util.URLEscape(n.Destination, true)
			switch classify(n.Destination) {
			case urlBad:
				fix = append(fix, func() { unwrap(n) })
			case urlWeb:
				n.SetAttributeString("rel", []byte(relExternal))
			}
		case *ast.Image: // CSP allows same-origin images only: keep relative ones
			n.Destination = util.URLEscape(n.Destination, true)
			if len(n.Destination) == 0 || classify(n.Destination) != urlLocal {
				fix = append(fix, func() { unwrap(n) })
			}
		case *ast.AutoLink:
			switch classify(autoLinkURL(n, src)) {
			case urlBad:
				fix = append(fix, func() {
					s := ast.NewString(n.Label(src))
					s.SetRaw(true) // rendered HTML-escaped, no entity decoding
					n.Parent().ReplaceChild(n.Parent(), n, s)
				})
			case urlWeb:
				n.SetAttributeString("rel", []byte(relExternal))
			}
		}
		return ast.WalkContinue, nil
	})
	for _, f := range fix {
		f()
	}
}

// unwrap replaces n by its children (a dropped link keeps its text, a dropped
// image becomes its alt text).
func unwrap(n ast.Node) {
	parent := n.Parent()
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		parent.InsertBefore(parent, n, c)
		c = next
	}
	parent.RemoveChild(parent, n)
}

func autoLinkURL(n *ast.AutoLink, src []byte) []byte {
	u := n.URL(src)
	if n.AutoLinkType == ast.AutoLinkEmail && !bytes.HasPrefix(bytes.ToLower(u), []byte("mailto:")) {
		u = append([]byte("mailto:"), u...)
	}
	return util.URLEscape(u, false)
}
