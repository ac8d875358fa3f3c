package markdown

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

var (
	reForbiddenTag = regexp.MustCompile(`(?i)<\s*/?\s*(script|iframe|style|svg|object|embed)`)
	reEventAttr    = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	reTag          = regexp.MustCompile(`<(/?)([^\s>/]*)`)
	reURLAttr      = regexp.MustCompile(`(?i)<(\w+)[^>]*?\s(href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
	reScheme       = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)
	badSchemes     = []string{"javascript:", "vbscript:", "data:", "file:"}

	inlineTags = set("a em strong del code img br")
	blockTags  = set("a em strong del code img br p h1 h2 h3 h4 h5 h6 ul ol li blockquote pre hr table thead tbody tr th td")
)

func set(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

func normAttr(v string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, html.UnescapeString(v)))
}

// checkSafe asserts the safety properties of rendered HTML.
func checkSafe(t *testing.T, in, out string, allowed map[string]bool) {
	t.Helper()
	if m := reForbiddenTag.FindString(out); m != "" {
		t.Errorf("input %q: forbidden tag %q in %q", in, m, out)
	}
	if m := reEventAttr.FindString(out); m != "" {
		t.Errorf("input %q: event handler attribute %q in %q", in, m, out)
	}
	for _, m := range reTag.FindAllStringSubmatch(out, -1) {
		if !allowed[m[2]] {
			t.Errorf("input %q: unexpected tag %q in %q", in, m[0], out)
		}
	}
	for _, m := range reURLAttr.FindAllStringSubmatch(out, -1) {
		v := normAttr(m[3] + m[4] + m[5])
		vs := []string{v}
		if u, err := url.PathUnescape(v); err == nil {
			vs = append(vs, normAttr(u))
		}
		for _, v := range vs {
			for _, bad := range badSchemes {
				if strings.HasPrefix(v, bad) {
					t.Errorf("input %q: dangerous %s %q in %q", in, m[2], v, out)
				}
			}
			if strings.EqualFold(m[2], "src") && (reScheme.MatchString(v) || strings.HasPrefix(v, "//") || strings.HasPrefix(v, `/\`)) {
				t.Errorf("input %q: non-relative image %q in %q", in, v, out)
			}
		}
	}
}

func FuzzRenderIsSafe(f *testing.F) {
	for _, s := range []string{
		"<script>alert(1)</script>", "x <script>alert(1)</script> y", "<SCRIPT SRC=//x.example/x.js></SCRIPT>",
		"<img src=x onerror=alert(1)>", "a <img src=x onerror=alert(1)> b", "<svg onload=alert(1)>", "<svg/onload=alert(1)>",
		"<iframe src=javascript:alert(1)></iframe>", "<style>body{display:none}</style>", "<object data=x></object><embed src=x>",
		`<a href="javascript:alert(1)">x</a>`, "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))",
		"[x](&#x6A;avascript:alert(1))", "[x](&#106;avascript:alert(1))", "[x](&#0000106avascript:alert(1))",
		"[x](&amp;#106;avascript:alert(1))", "[x](  javascript:alert(1))", "[x](java\tscript:alert(1))",
		"[x](<java\tscript:alert(1)>)", "[x](<java\nscript:alert(1)>)", "[x](\x01javascript:alert(1))",
		"[x](java&Tab;script:alert(1))", "[x](%6Aavascript:alert(1))", "[x](javascript%3Aalert(1))",
		"[x](%256Aavascript:alert(1))", "[x](vbscript:msgbox(1))", "[x](file:///etc/passwd)", "[x](data:text/html,<script>)",
		"[x](\\javascript:alert(1))", "[x](java\u200bscript:alert(1))", "[x](javascript\uFF1Aalert(1))",
		"<javascript:alert(1)>", "<JAVASCRIPT:alert(1)>", "<vbscript:x>", "<data:text/html,x>",
		"![x](data:image/svg+xml,<svg onload=alert(1)>)", "![x](data:image/png;base64,AAAA)", "![x](https://evil.example/t.png)",
		"![x](//evil.example/t.png)", "![x](/\\evil.example/t.png)", "![x\" onerror=\"alert(1)](/a.png)", "![a&#32;onerror=x](/a.png)",
		"[x][r]\n\n[r]: javascript:alert(1)", "[r]\n\n[r]: &#106;avascript:alert(1) \"t\"", "![i][r]\n\n[r]: data:image/png,x",
		"| a | b |\n|---|---|\n| <script>x</script> | <img src=x onerror=y> |", "| [x](javascript:y) | ![i](data:x) |\n|---|---|",
		"# Heading {onclick=alert(1)}", "[x](/a){onclick=alert(1)}", "# h {#location}", "```js\" onclick=\"x\n<script>\n```",
		"```a&#32;onclick=x\ny\n```", "[x](/a \"t onclick=y\")", "[x](/a 'b&#32;onmouseover=c')",
		"<!-- <script>x</script> -->", "<![CDATA[<script>]]>", "<?php x ?>", "<div\nonclick=x>y</div>",
		"www.example.org/<script>", "https://x.example/\"onmouseover=\"x", "x@y.example<script>",
		"[a](<>) ![b](<>) [c]()", "\\<script>", "&lt;script&gt;", "`<script>`", "    <script>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkSafe(t, in, string(Render(in)), blockTags)
		checkSafe(t, in, string(RenderInline(in)), inlineTags)
		p := PlainText(in)
		if !utf8.ValidString(p) || p != strings.Join(strings.Fields(p), " ") {
			t.Errorf("PlainText(%q) = %q: invalid UTF-8 or whitespace not collapsed", in, p)
		}
	})
}
