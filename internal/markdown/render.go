package markdown

import (
	"bytes"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// safeRenderer overrides goldmark's HTML renderers for the nodes that carry
// user-controlled URLs or attribute values, and for raw HTML. It is registered
// with a higher priority (lower number) than goldmark's default renderer.
type safeRenderer struct{ inline bool }

func (r safeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindLink, renderLink)
	reg.Register(ast.KindAutoLink, renderAutoLink)
	reg.Register(ast.KindImage, renderImage)
	reg.Register(ast.KindFencedCodeBlock, renderFencedCode)
	reg.Register(ast.KindRawHTML, renderNothing)
	reg.Register(ast.KindHTMLBlock, renderNothing)
	if r.inline {
		reg.Register(ast.KindParagraph, renderBareParagraph)
	}
}

func renderNothing(util.BufWriter, []byte, ast.Node, bool) (ast.WalkStatus, error) {
	return ast.WalkSkipChildren, nil
}

func renderBareParagraph(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering && n.PreviousSibling() != nil {
		_ = w.WriteByte(' ')
	}
	return ast.WalkContinue, nil
}

func renderLink(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	if !entering {
		_, _ = w.WriteString("</a>")
		return ast.WalkContinue, nil
	}
	// Destination was decoded and vetted by linkPolicy: write it as is.
	writeAttr(w, "<a href", n.Destination, false)
	if n.Title != nil {
		writeAttr(w, " title", unescapeMD(n.Title), true)
	}
	writeRel(w, n)
	_ = w.WriteByte('>')
	return ast.WalkContinue, nil
}

func renderAutoLink(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.AutoLink)
	if !entering {
		return ast.WalkContinue, nil
	}
	writeAttr(w, "<a href", autoLinkURL(n, src), false) // vetted by linkPolicy
	writeRel(w, n)
	_ = w.WriteByte('>')
	_, _ = w.Write(util.EscapeHTML(n.Label(src)))
	_, _ = w.WriteString("</a>")
	return ast.WalkContinue, nil
}

func renderImage(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	writeAttr(w, "<img src", n.Destination, false) // only relative URLs reach here
	writeAttr(w, " alt", []byte(plainText(n, src)), true)
	if n.Title != nil {
		writeAttr(w, " title", unescapeMD(n.Title), true)
	}
	_ = w.WriteByte('>')
	return ast.WalkSkipChildren, nil
}

func renderFencedCode(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		_, _ = w.WriteString("</code></pre>\n")
		return ast.WalkContinue, nil
	}
	n := node.(*ast.FencedCodeBlock)
	_, _ = w.WriteString("<pre><code")
	if lang := n.Language(src); lang != nil {
		// Only a conservative character set survives in the class name.
		lang = bytes.Map(func(r rune) rune {
			if r < 0x80 && (r == '-' || r == '_' || r == '+' || r == '.' || r == '#' ||
				'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
				return r
			}
			return -1
		}, unescapeMD(lang))
		if len(lang) > 0 {
			writeAttr(w, ` class`, append([]byte("language-"), lang...), false)
		}
	}
	_ = w.WriteByte('>')
	for i := 0; i < n.Lines().Len(); i++ {
		seg := n.Lines().At(i)
		gmhtml.DefaultWriter.RawWrite(w, seg.Value(src))
	}
	return ast.WalkContinue, nil
}

func writeRel(w util.BufWriter, n ast.Node) {
	if v, ok := n.AttributeString("rel"); ok {
		if b, ok := v.([]byte); ok {
			writeAttr(w, " rel", b, false)
		}
	}
}

// writeAttr writes prefix="value" with value HTML-escaped. For free text
// (title, alt) "=" is escaped as well, so user text can never resemble an
// attribute assignment such as ` onerror=` to naive filters downstream.
// URLs need no such care: goldmark's URLEscape already encoded whitespace.
func writeAttr(w util.BufWriter, prefix string, value []byte, freeText bool) {
	_, _ = w.WriteString(prefix)
	_, _ = w.WriteString(`="`)
	escaped := util.EscapeHTML(value)
	if freeText {
		escaped = bytes.ReplaceAll(escaped, []byte("="), []byte("&#61;"))
	}
	_, _ = w.Write(escaped)
	_ = w.WriteByte('"')
}
