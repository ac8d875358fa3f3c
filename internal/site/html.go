package site

import (
	"bytes"
	"fmt"
	"html"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// The register's pages come from html/template, so their markup is regular; still, they
// carry Markdown rendered from authors' text. The scanner below reads any well-formed HTML
// the way a browser would for the parts that matter here (tags and their attributes),
// skipping comments, declarations and the raw text of script, style, textarea and title,
// where a "<" is not a tag. golang.org/x/net/html would do the same, but it is not among
// the module's dependencies.

// tag is a start or end tag, as bytes of the document.
type tag struct {
	name       string // lower case; an end tag's name starts with "/"
	start, end int    // from "<" to just after ">"
	attrs      []attr
}

// attr is one attribute of a start tag.
type attr struct {
	name       string // lower case
	val        string // unescaped; "" when the attribute has no value
	start, end int    // from the name's first byte to just after the value (and its quote)
}

// rawText are the elements whose content is text, never tags.
var rawText = map[string]bool{"script": true, "style": true, "textarea": true, "title": true}

// scanTags calls fn for every start and end tag of doc, in order.
func scanTags(doc []byte, fn func(t tag)) {
	i := 0
	for i < len(doc) {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 {
			return
		}
		i += j
		switch {
		case bytes.HasPrefix(doc[i:], []byte("<!--")):
			k := bytes.Index(doc[i+4:], []byte("-->"))
			if k < 0 {
				return
			}
			i += 4 + k + 3
		case i+1 < len(doc) && (doc[i+1] == '!' || doc[i+1] == '?'):
			k := bytes.IndexByte(doc[i:], '>')
			if k < 0 {
				return
			}
			i += k + 1
		case i+2 < len(doc) && doc[i+1] == '/' && isLetter(doc[i+2]):
			t := parseTag(doc, i, i+2)
			t.name = "/" + t.name
			fn(t)
			i = t.end
		case i+1 < len(doc) && isLetter(doc[i+1]):
			t := parseTag(doc, i, i+1)
			fn(t)
			i = t.end
			if rawText[t.name] {
				k := indexFold(doc[i:], "</"+t.name)
				if k < 0 {
					return
				}
				i += k
			}
		default:
			i++
		}
	}
}

// parseTag reads the tag that starts at start, whose name starts at p.
func parseTag(doc []byte, start, p int) tag {
	n := p
	for n < len(doc) && !isSpace(doc[n]) && doc[n] != '/' && doc[n] != '>' {
		n++
	}
	t := tag{name: strings.ToLower(string(doc[p:n])), start: start}
	p = n
	for p < len(doc) {
		for p < len(doc) && (isSpace(doc[p]) || doc[p] == '/') {
			p++
		}
		if p >= len(doc) || doc[p] == '>' {
			p++
			break
		}
		a := attr{start: p}
		for p < len(doc) && !isSpace(doc[p]) && doc[p] != '=' && doc[p] != '>' && doc[p] != '/' {
			p++
		}
		if p == a.start { // a stray "=": skip it
			p++
			continue
		}
		a.name, a.end = strings.ToLower(string(doc[a.start:p])), p
		q := p
		for q < len(doc) && isSpace(doc[q]) {
			q++
		}
		if q < len(doc) && doc[q] == '=' {
			a.val, p = attrValue(doc, q+1)
			a.end = p
		}
		t.attrs = append(t.attrs, a)
	}
	t.end = min(p, len(doc))
	return t
}

// attrValue reads a quoted or unquoted attribute value after its "=".
func attrValue(doc []byte, p int) (string, int) {
	for p < len(doc) && isSpace(doc[p]) {
		p++
	}
	if p < len(doc) && (doc[p] == '"' || doc[p] == '\'') {
		k := bytes.IndexByte(doc[p+1:], doc[p])
		if k < 0 {
			return html.UnescapeString(string(doc[p+1:])), len(doc)
		}
		return html.UnescapeString(string(doc[p+1 : p+1+k])), p + k + 2
	}
	s := p
	for p < len(doc) && !isSpace(doc[p]) && doc[p] != '>' {
		p++
	}
	return html.UnescapeString(string(doc[s:p])), p
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// indexFold finds s in b ignoring ASCII case.
func indexFold(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if strings.EqualFold(string(b[i:i+len(s)]), s) {
			return i
		}
	}
	return -1
}

// isLinkAttr reports whether an attribute holds an address: href and src on any element,
// a form's action, a video's poster.
func isLinkAttr(tagName, attrName string) bool {
	switch attrName {
	case "href", "src":
		return true
	case "action":
		return tagName == "form"
	case "poster":
		return tagName == "video"
	}
	return false
}

// ids returns the targets a fragment can name in an HTML document: ids, and the names of
// a elements.
func ids(doc []byte) map[string]bool {
	out := map[string]bool{}
	scanTags(doc, func(t tag) {
		for _, a := range t.attrs {
			if a.name == "id" || (a.name == "name" && t.name == "a") {
				out[a.val] = true
			}
		}
	})
	return out
}

// Check walks a static site in dir and reports every link of its HTML pages that would be
// broken there: an address on the site's root ("/…", which a site in a subdirectory or
// opened from the disk does not have), a relative address with no file behind it, or a
// fragment naming no element of its page. Links to other sites are not followed.
func Check(dir string) error {
	c := checker{dir: dir, ids: map[string]map[string]bool{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		return c.page(filepath.ToSlash(rel))
	})
	if err != nil {
		return err
	}
	if len(c.problems) == 0 {
		return nil
	}
	shown := c.problems[:min(len(c.problems), 20)]
	return fmt.Errorf("%d broken link(s) in the static site:\n  %s", len(c.problems), strings.Join(shown, "\n  "))
}

type checker struct {
	dir      string
	ids      map[string]map[string]bool // by file, read once
	problems []string
}

func (c *checker) page(file string) error {
	doc, err := os.ReadFile(filepath.Join(c.dir, filepath.FromSlash(file)))
	if err != nil {
		return err
	}
	scanTags(doc, func(t tag) {
		for _, a := range t.attrs {
			if isLinkAttr(t.name, a.name) {
				if msg := c.link(file, a.val); msg != "" {
					c.problems = append(c.problems, fmt.Sprintf("%s: <%s %s=%q>: %s", file, t.name, a.name, a.val, msg))
				}
			}
		}
	})
	return nil
}

// link returns what is wrong with the address ref found in file, or "".
func (c *checker) link(file, ref string) string {
	u, err := url.Parse(ref)
	switch {
	case err != nil:
		return "not an address"
	case u.Scheme != "" || u.Host != "":
		return "" // another site, or the live register
	case strings.HasPrefix(u.Path, "/"):
		return "an address on the server's root"
	case u.RawQuery != "":
		return "a query, which static files ignore"
	}
	target := file
	if u.Path != "" {
		target = path.Join(path.Dir(file), u.Path)
		if target == ".." || strings.HasPrefix(target, "../") {
			return "outside the site"
		}
		info, err := os.Stat(filepath.Join(c.dir, filepath.FromSlash(target)))
		if err != nil || !info.Mode().IsRegular() {
			return "no such file"
		}
	}
	if u.Fragment == "" || !strings.HasSuffix(target, ".html") {
		return ""
	}
	known, ok := c.ids[target]
	if !ok {
		doc, err := os.ReadFile(filepath.Join(c.dir, filepath.FromSlash(target)))
		if err != nil {
			return "unreadable"
		}
		known = ids(doc)
		c.ids[target] = known
	}
	if !known[u.Fragment] {
		return "no element with id " + u.Fragment
	}
	return ""
}
