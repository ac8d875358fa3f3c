package site

import (
	"bytes"
	"html"
	"mime"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/civictech/registry/internal/i18n"
)

// An address the static site can hold is a key: a path, plus "?page=N" for a page of the
// index after the first. Everything else (a search, a filter, a form's target, the staff's
// pages) needs the running register.

// notStatic are the paths, with everything under them, that only the running register can
// answer: sign-in and the staff's pages, the workflow's API, health, and the language
// switch (which sets a cookie; its links are mapped to the other language's page instead).
var notStatic = []string{"/login", "/logout", "/account", "/workspace", "/review", "/admin", "/healthz",
	"/lang", "/api/v1/review", "/api/v1/log"}

// keyOf returns the key of a same-site address u (path already resolved), or false when a
// static site cannot hold it.
func keyOf(u *url.URL) (string, bool) {
	p := u.Path
	if p == "" || !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return "", false
	}
	if strings.HasPrefix(p, "/lang/") {
		return langSwitch(u)
	}
	for _, prefix := range notStatic {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return "", false
		}
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if _, ok := i18n.Parse(segs[0]); ok && len(segs) >= 4 && segs[1] == "algorithms" {
		// A citizen's question goes to the live register, and so does the compare form's
		// target (…/diff without a range); the readable diffs themselves are static.
		if segs[3] == "feedback" || (segs[3] == "diff" && len(segs) == 4) {
			return "", false
		}
	}
	if u.RawQuery == "" {
		return p, true
	}
	if n, ok := indexPage(p, u.Query()); ok {
		if n == 1 {
			return p, true
		}
		return p + "?page=" + strconv.Itoa(n), true
	}
	return "", false
}

// indexPage recognises a page of the unfiltered index: /{lang}/algorithms?page=N and
// nothing else in the query.
func indexPage(p string, q url.Values) (int, bool) {
	lang, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if _, ok := i18n.Parse(lang); !ok || rest != "algorithms" || len(q) != 1 || len(q["page"]) != 1 {
		return 0, false
	}
	n, err := strconv.Atoi(q.Get("page"))
	return n, err == nil && n >= 1
}

// langSwitch maps the language switch of a page without a translated address
// (/lang/es?next=/ca/log) to the same page in the other language (/es/log).
func langSwitch(u *url.URL) (string, bool) {
	l, ok := i18n.Parse(strings.Trim(strings.TrimPrefix(u.Path, "/lang/"), "/"))
	if !ok {
		return "", false
	}
	next, err := url.Parse(u.Query().Get("next"))
	if err != nil || next.Scheme != "" || next.Host != "" || !strings.HasPrefix(next.Path, "/") {
		return "/" + string(l) + "/", true
	}
	first, rest, _ := strings.Cut(strings.TrimPrefix(next.Path, "/"), "/")
	if _, ok := i18n.Parse(first); !ok {
		return "/" + string(l) + "/", true
	}
	next.Path = "/" + string(l) + "/" + rest
	if strings.HasPrefix(next.Path, "/lang/") {
		return "", false
	}
	return keyOf(next)
}

// fileFor names the file that holds the answer to key: path/index.html for a page, so that
// relative links can name the file itself (which works from the disk and on any server);
// page-N.html beside the index for its other pages; the path itself for any other file,
// with an extension from its media type when the path has none (/log/checkpoint →
// log/checkpoint.txt), so that a path never has to be both a file and a directory.
func fileFor(key string, isHTML bool, contentType string) (string, bool) {
	p, query, _ := strings.Cut(key, "?")
	p = strings.Trim(p, "/")
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".") {
			return "", false
		}
	}
	switch {
	case isHTML && query != "":
		return p + "/page-" + strings.TrimPrefix(query, "page=") + ".html", true
	case isHTML && strings.HasSuffix(p, ".html"):
		return p, true
	case isHTML:
		return p + "/index.html", true
	case path.Ext(p) == "":
		return p + extension(contentType), true
	}
	return p, true
}

// extensions are the file extensions of the media types the register serves; a web
// server hosting the site gives them back from the name.
var extensions = map[string]string{
	"application/json":        ".json",
	"application/schema+json": ".json",
	"application/ld+json":     ".jsonld",
	"application/x-ndjson":    ".ndjson",
	"application/atom+xml":    ".atom",
	"text/plain":              ".txt",
	"text/markdown":           ".md",
	"text/csv":                ".csv",
	"text/turtle":             ".ttl",
	"text/css":                ".css",
	"image/svg+xml":           ".svg",
}

func extension(contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if ext, ok := extensions[mt]; ok {
		return ext
	}
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// relative returns the relative address of the site file to from the site file from,
// each segment escaped.
func relative(from, to string) string {
	dir := path.Dir(from)
	var fromSegs []string
	if dir != "." {
		fromSegs = strings.Split(dir, "/")
	}
	toSegs := strings.Split(to, "/")
	i := 0
	for i < len(fromSegs) && i < len(toSegs)-1 && fromSegs[i] == toSegs[i] {
		i++
	}
	parts := make([]string, 0, len(fromSegs)-i+len(toSegs)-i)
	for range len(fromSegs) - i {
		parts = append(parts, "..")
	}
	for _, s := range toSegs[i:] {
		parts = append(parts, url.PathEscape(s))
	}
	rel := strings.Join(parts, "/")
	if first, _, _ := strings.Cut(rel, "/"); strings.Contains(first, ":") {
		rel = "./" + rel // not a scheme
	}
	return rel
}

// linkAction is what becomes of a link.
type linkAction int

const (
	keepLink    linkAction = iota // leave it as it is
	replaceLink                   // write the new address
	dropLink                      // remove it: nothing answers it without the live register
)

// rewriteHTML rewrites the page in file: every link to the site becomes relative, links to
// what only the running register answers go to the live register or are removed, and so
// are forms, which a static site cannot answer.
func (b *builder) rewriteHTML(doc []byte, file, key string) []byte {
	var out bytes.Buffer
	out.Grow(len(doc) + len(doc)/8)
	last, inDroppedForm, inDroppedLink := 0, false, false
	scanTags(doc, func(t tag) {
		switch {
		case t.name == "/a" && inDroppedLink:
			// The text of a link that goes nowhere stays, as text: an a element without
			// its href would still look like a link.
			out.Write(doc[last:t.start])
			out.WriteString("</span>")
			last, inDroppedLink = t.end, false
			return
		case inDroppedForm:
			if t.name == "/form" {
				last, inDroppedForm = t.end, false
			}
			return
		case t.name == "form" && b.opts.Live == "":
			out.Write(doc[last:t.start])
			last, inDroppedForm = t.start, true
			b.removed++
			return
		}
		for _, a := range t.attrs {
			if !isLinkAttr(t.name, a.name) {
				continue
			}
			val, action := b.relink(file, key, a.val, t.name == "form")
			switch {
			case action == replaceLink:
				out.Write(doc[last:a.start])
				out.WriteString(a.name + `="` + html.EscapeString(val) + `"`)
				last = a.end
			case action == dropLink && t.name == "link":
				out.Write(doc[last:t.start]) // a <link> without its address means nothing
				last = t.end
				return
			case action == dropLink && t.name == "a":
				out.Write(doc[last:t.start])
				out.WriteString("<span" + langAttr(t) + ">")
				last, inDroppedLink = t.end, true
				return
			case action == dropLink:
				cut := a.start
				if cut > 0 && isSpace(doc[cut-1]) {
					cut--
				}
				out.Write(doc[last:cut])
				last = a.end
			}
		}
	})
	if !inDroppedForm {
		out.Write(doc[last:])
	}
	return out.Bytes()
}

// langAttr returns the lang attribute of t, ready to write, or "".
func langAttr(t tag) string {
	for _, a := range t.attrs {
		if a.name == "lang" {
			return ` lang="` + html.EscapeString(a.val) + `"`
		}
	}
	return ""
}

// relink decides what becomes of the address ref, found in the site file file whose key is
// key. A form's target always needs the live register.
func (b *builder) relink(file, key, ref string, form bool) (string, linkAction) {
	r := b.parseRef(key, ref)
	switch {
	case r.url == nil:
		return "", keepLink
	case r.key != "" && !form:
		t := b.resolve(r.key)
		switch {
		case t != nil && t.file != "":
			rel := relative(file, t.file)
			if r.url.Fragment != "" {
				rel += "#" + r.url.EscapedFragment()
			}
			return rel, replaceLink
		case t == nil || !t.needsLive:
			b.missing[r.url.RequestURI()] = true
			return "", dropLink
		}
	}
	if b.opts.Live != "" {
		return b.live(r.url), replaceLink
	}
	b.removed++
	return "", dropLink
}

// live returns the address of u on the live register.
func (b *builder) live(u *url.URL) string {
	s := strings.TrimRight(b.opts.Live, "/") + u.RequestURI()
	if u.Fragment != "" {
		s += "#" + u.EscapedFragment()
	}
	return s
}

// ref is a link found in a document.
type ref struct {
	url *url.URL // resolved against the document's address; nil when it leaves the site or stays on the page
	key string   // the static address it names; "" when the site cannot hold it
}

// parseRef resolves raw, found in the document at key.
func (b *builder) parseRef(key, raw string) ref {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || (u.Path == "" && u.RawQuery == "") {
		return ref{}
	}
	p, _, _ := strings.Cut(key, "?")
	u = (&url.URL{Path: p}).ResolveReference(u)
	k, _ := keyOf(u)
	return ref{url: u, key: k}
}

// atomLinks finds the addresses in an Atom document: link hrefs and author URIs.
var atomLinks = regexp.MustCompile(`(href=")([^"]*)(")|(<uri>)([^<]*)(</uri>)`)

// atomKeys returns the keys of the register's own addresses in an Atom document, whose
// links are absolute, on the address the handler was given.
func (b *builder) atomKeys(doc []byte) []string {
	var keys []string
	for _, m := range atomLinks.FindAllSubmatch(doc, -1) {
		v := string(m[2]) + string(m[5])
		if r := b.ownRef(html.UnescapeString(v)); r.key != "" {
			keys = append(keys, r.key)
		}
	}
	return keys
}

// ownRef parses an absolute address on the register's origin.
func (b *builder) ownRef(abs string) ref {
	origin := strings.TrimRight(b.opts.Origin, "/")
	rest, ok := strings.CutPrefix(abs, origin)
	if !ok || (rest != "" && rest[0] != '/' && rest[0] != '?' && rest[0] != '#') {
		return ref{}
	}
	if rest == "" || rest[0] != '/' {
		rest = "/" + rest
	}
	return b.parseRef("/", rest)
}

// rewriteAtom makes the links of a feed relative to the feed's file, for a site with no
// live register to link to. RFC 4287 allows relative references, resolved against the
// feed's own address; the feed's and entries' IDs are names, not links, and stay.
func (b *builder) rewriteAtom(doc []byte, file string) []byte {
	return atomLinks.ReplaceAllFunc(doc, func(m []byte) []byte {
		sub := atomLinks.FindSubmatch(m)
		open, val, closing := sub[1], sub[2], sub[3]
		if len(open) == 0 {
			open, val, closing = sub[4], sub[5], sub[6]
		}
		r := b.ownRef(html.UnescapeString(string(val)))
		if r.key == "" {
			return m
		}
		t := b.resolve(r.key)
		if t == nil || t.file == "" {
			return m
		}
		rel := relative(file, t.file)
		if r.url.Fragment != "" {
			rel += "#" + r.url.EscapedFragment()
		}
		return []byte(string(open) + html.EscapeString(rel) + string(closing))
	})
}
