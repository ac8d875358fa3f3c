package site

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScanTags(t *testing.T) {
	doc := `<!doctype html><!-- <a href="/in-comment"> --><HTML><A HREF='/single?a=1&amp;b=2' class=x>one</A>
<script src="/app.js">if (a<b) { x = '<a href="/in-script">' }</script><a href=/unquoted>two</a>
<title>a <a href="/in-title"></title><img src = "/img.svg" alt="x > y"><a href="#top" download>three</a>
<textarea><a href="/in-textarea"></textarea><form method=get action="/search"><input name=q></form>`
	var got []string
	scanTags([]byte(doc), func(tg tag) {
		for _, a := range tg.attrs {
			if isLinkAttr(tg.name, a.name) {
				got = append(got, tg.name+" "+a.name+"="+a.val+" "+doc[a.start:a.end])
			}
		}
		if tg.name == "/form" && doc[tg.start:tg.end] != "</form>" {
			t.Errorf("end tag spans %q", doc[tg.start:tg.end])
		}
	})
	want := []string{
		"a href=/single?a=1&b=2 HREF='/single?a=1&amp;b=2'",
		"script src=/app.js src=\"/app.js\"",
		"a href=/unquoted href=/unquoted",
		"img src=/img.svg src = \"/img.svg\"",
		"a href=#top href=\"#top\"",
		"form action=/search action=\"/search\"",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
}

func TestKeyOf(t *testing.T) {
	for addr, want := range map[string]string{
		"/ca/algorithms":                              "/ca/algorithms",
		"/ca/algorithms?page=1":                       "/ca/algorithms",
		"/es/algorithms?page=3":                       "/es/algorithms?page=3",
		"/es/algorithms?page=3&sort=name":             "",
		"/ca/algorithms?risk=high%20risk":             "",
		"/ca/algorithms?q=bus":                        "",
		"/ca/algorithms?page=x":                       "",
		"/ca/algorithms/x?page=2":                     "",
		"/ca/algorithms/x/feedback?revision=3":        "",
		"/ca/algorithms/x/feedback/sent":              "",
		"/ca/algorithms/x/diff":                       "",
		"/ca/algorithms/x/diff/1..2":                  "/ca/algorithms/x/diff/1..2",
		"/ca/algorithms/x.md":                         "/ca/algorithms/x.md",
		"/lang/es?next=%2Fca%2Flog":                   "/es/log",
		"/lang/en?next=%2Fca%2Falgorithms%3Fpage%3D2": "/en/algorithms?page=2",
		"/lang/en?next=https%3A%2F%2Fevil.example":    "/en/",
		"/lang/xx?next=%2Fca%2Flog":                   "",
		"/login?next=%2Fworkspace":                    "",
		"/logout":                                     "",
		"/workspace/1/edit/basic":                     "",
		"/review":                                     "",
		"/admin/users":                                "",
		"/account/tokens":                             "",
		"/api/v1/review/queue":                        "",
		"/api/v1/log/records":                         "",
		"/api/v1/algorithms/x":                        "/api/v1/algorithms/x",
		"/static/site.css":                            "/static/site.css",
		"/reviewers":                                  "/reviewers", // only whole segments are staff paths
	} {
		u, err := url.Parse(addr)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := keyOf(u)
		if got != want || ok != (want != "") {
			t.Errorf("keyOf(%s) = %q, %v; want %q", addr, got, ok, want)
		}
	}
}

func TestFileFor(t *testing.T) {
	for _, c := range []struct {
		key, contentType, want string
		html                   bool
	}{
		{"/ca/", "text/html", "ca/index.html", true},
		{"/ca/algorithms", "text/html", "ca/algorithms/index.html", true},
		{"/ca/algorithms?page=2", "text/html", "ca/algorithms/page-2.html", true},
		{"/ca/algorithms/x/diff/1..2", "text/html", "ca/algorithms/x/diff/1..2/index.html", true},
		{"/ca/algorithms/x.md", "text/markdown; charset=utf-8", "ca/algorithms/x.md", false},
		{"/ca/feed.atom", "application/atom+xml", "ca/feed.atom", false},
		{"/api/v1/algorithms/x", "application/json; charset=utf-8", "api/v1/algorithms/x.json", false},
		{"/log/checkpoint", "text/plain; charset=utf-8", "log/checkpoint.txt", false},
		{"/catalog.ttl", "text/turtle", "catalog.ttl", false},
		{"/.well-known/x", "text/plain", "", false},
		{"/a/../b", "text/html", "", true},
	} {
		got, ok := fileFor(c.key, c.html, c.contentType)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("fileFor(%s, %s) = %q, %v; want %q", c.key, c.contentType, got, ok, c.want)
		}
	}
}

func TestRelative(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"ca/algorithms/x/index.html", "ca/algorithms/y/index.html", "../y/index.html"},
		{"ca/algorithms/x/index.html", "ca/algorithms/x/index.html", "index.html"},
		{"ca/algorithms/x/index.html", "static/site.css", "../../../static/site.css"},
		{"ca/algorithms/index.html", "ca/algorithms/page-2.html", "page-2.html"},
		{"index.html", "ca/index.html", "ca/index.html"},
		{"ca/index.html", "index.html", "../index.html"},
		{"ca/algorithms/x/versions/index.html", "ca/algorithms/x/diff/1..2/index.html", "../diff/1..2/index.html"},
		{"ca/index.html", "ca/a b:c/index.html", "./a%20b:c/index.html"},
	} {
		if got := relative(c.from, c.to); got != c.want {
			t.Errorf("relative(%s, %s) = %q, want %q", c.from, c.to, got, c.want)
		}
	}
}

// TestRewriteHTML: internal links become relative, with their fragments; what only the
// running register answers goes there, or loses its link (the text stays) and its form.
func TestRewriteHTML(t *testing.T) {
	doc := `<head><link rel="stylesheet" href="/static/site.css"><link rel="alternate" href="/ca/gone"></head>
<a href="/ca/algorithms/y#risk" class="c">Y</a> <a lang="es" href="/ca/algorithms?risk=high%20risk">high</a>
<a href="/login">Staff</a> <a href="#main">skip</a> <a href="https://example.org/">out</a>
<form method="get" action="/ca/algorithms"><input name="q"><button>Search</button></form><p>after</p>`
	newBuilder := func(live string) *builder {
		b := &builder{opts: Options{Origin: "http://registry.test", Live: live}, missing: map[string]bool{},
			targets: map[string]*target{
				"/static/site.css": {file: "static/site.css"},
				"/ca/algorithms/y": {alias: "/ca/algorithms/z"},
				"/ca/algorithms/z": {file: "ca/algorithms/z/index.html"},
				"/ca/gone":         {},
				"/ca/algorithms/x": {file: "ca/algorithms/x/index.html"},
			}}
		return b
	}

	b := newBuilder("")
	got := string(b.rewriteHTML([]byte(doc), "ca/algorithms/x/index.html", "/ca/algorithms/x"))
	want := `<head><link rel="stylesheet" href="../../../static/site.css"></head>
<a href="../z/index.html#risk" class="c">Y</a> <span lang="es">high</span>
<span>Staff</span> <a href="#main">skip</a> <a href="https://example.org/">out</a>
<p>after</p>`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("without a live register (-want +got):\n%s", diff)
	}
	if b.removed != 3 || !b.missing["/ca/gone"] {
		t.Errorf("removed %d, missing %v; want 3 and /ca/gone", b.removed, b.missing)
	}

	got = string(newBuilder("https://live.example").rewriteHTML([]byte(doc), "ca/algorithms/x/index.html", "/ca/algorithms/x"))
	for _, s := range []string{`<a lang="es" href="https://live.example/ca/algorithms?risk=high%20risk">high</a>`,
		`<a href="https://live.example/login">Staff</a>`, `<form method="get" action="https://live.example/ca/algorithms">`} {
		if !strings.Contains(got, s) {
			t.Errorf("with a live register, no %s in:\n%s", s, got)
		}
	}
}

// TestCheck: the site's own check finds each kind of broken link.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ca/index.html", `<a href="../static/site.css">ok</a><a href="algorithms/index.html#x">ok</a><a id="top" href="#top">ok</a>
<a href="https://example.org/x">ok</a><a href="/ca/">root</a><a href="missing.html">missing</a><a href="#nowhere">fragment</a>
<a href="algorithms/index.html#nowhere">far fragment</a><a href="../../outside.html">outside</a>`)
	write(t, dir, "ca/algorithms/index.html", `<h2 id="x">x</h2>`)
	write(t, dir, "static/site.css", `a{}`)
	err := Check(dir)
	if err == nil {
		t.Fatal("Check found nothing")
	}
	for _, want := range []string{"5 broken link(s)", `"/ca/">: an address on the server's root`, `"missing.html">: no such file`,
		`"#nowhere">: no element with id nowhere`, `"algorithms/index.html#nowhere">: no element`, `"../../outside.html">: outside the site`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check: no %q in:\n%v", want, err)
		}
	}
	if err := Check(filepath.Join(dir, "static")); err != nil {
		t.Errorf("a site without pages: %v", err)
	}
}
