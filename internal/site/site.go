// Package site writes the public register as static files, for any web server or CDN:
// every page in every language, every published version, the diffs, the feeds, the exports
// and the log's checkpoint, with relative links that work from the disk (file://) and from
// any directory of any server.
//
// It renders nothing itself: it asks the register's own HTTP handler, in-process, for the
// pages an anonymous visitor can reach, following their links from a few roots, exactly as
// a crawler would, so the static site is the live one, byte for byte, apart from its links
// and forms.
package site

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/civictech/registry/internal/i18n"
	assets "github.com/civictech/registry/web"
)

// Options says what to build the site from.
type Options struct {
	// Handler answers the register's addresses (server.Server.Handler()).
	Handler http.Handler
	// Origin is the public address the handler was configured with: its feeds and
	// catalogue hold absolute links on it.
	Origin string
	// Live is the public address of the running register. The static site links there for
	// what only the running register answers (search, filters, the feedback form, staff
	// sign-in), and its feeds keep their absolute links on it. Empty: those links and forms
	// are removed, the feeds link relatively, and the documents that cannot do without the
	// register's address (the DCAT catalogue, the OpenAPI description) are left out.
	// When set, the handler should have been configured with it, as Origin.
	Live string
}

// Stats describe a written site.
type Stats struct {
	Pages int   // HTML pages
	Files int   // every file, pages included
	Bytes int64 // their size
	// Removed counts the links and forms removed because only a live register answers them.
	Removed int
	// Missing lists addresses that pages linked to but the register answered as not found;
	// their links were removed.
	Missing []string
}

// marker names the file that says a directory holds a site written here, and so may be
// replaced by the next one.
const marker = ".registry-site"

// buildPrefix starts the name of the hidden directory a new site is built in, inside the
// target directory (so that moving it into place is a rename on the same file system, even
// when the target is a mount point).
const buildPrefix = ".registry-site-build-"

// kind is what a fetched document is, for its links.
type kind int

const (
	other kind = iota
	htmlDoc
	atomDoc
)

// target is what the crawl learnt about one key.
type target struct {
	file    string // slash path of the file in the site; "" when none was written
	alias   string // the key a redirect led to
	kind    kind
	primary bool // the key the file was written for (a second key may name the same file)
	// needsLive marks a document left out because it names the handler's origin: links
	// to it are treated like links to the live register's pages.
	needsLive bool
}

type builder struct {
	ctx     context.Context
	opts    Options
	root    string // the new site's directory
	targets map[string]*target
	files   map[string]bool
	queue   []string
	missing map[string]bool
	removed int
}

// Build writes the site into dir, replacing the site a previous Build wrote there. The new
// site is built in a hidden directory inside dir and checked (see Check); only then are the
// old files moved out and the new ones moved in, so a failed build leaves dir as it was.
// Hidden files that Build did not write (.git, .htaccess) are left alone. A dir that holds
// other files and no earlier site is refused, so that a wrong argument cannot delete them.
func Build(ctx context.Context, dir string, opts Options) (*Stats, error) {
	if opts.Handler == nil || opts.Origin == "" {
		return nil, errors.New("site: a handler and its origin are required")
	}
	build, err := prepare(dir)
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			_ = os.RemoveAll(build)
		}
	}()
	b := &builder{ctx: ctx, opts: opts, root: filepath.Join(build, "site"), targets: map[string]*target{},
		files: map[string]bool{}, missing: map[string]bool{}}
	if err := os.Mkdir(b.root, 0o755); err != nil {
		return nil, err
	}
	if err := b.crawl(); err != nil {
		return nil, err
	}
	if err := b.rewrite(); err != nil {
		return nil, err
	}
	if err := b.writeRoot(); err != nil {
		return nil, err
	}
	if err := Check(b.root); err != nil {
		return nil, fmt.Errorf("site: %s was left as it was: %w", dir, err)
	}
	stats, err := b.stats()
	if err != nil {
		return nil, err
	}
	if err := swap(dir, build); err != nil {
		keep = true // the old site may be in build/old: never delete it
		return nil, fmt.Errorf("site: moving the new site into %s: %w (both sites are under %s)", dir, err, build)
	}
	return stats, nil
}

// roots are where the crawl starts: what no page links to, or links to only from a page
// that might not be reached (the exports, the machine-readable descriptions, the log's
// checkpoint). The static files are added from the embedded assets.
func roots() []string {
	out := []string{"/api/v1/export.json", "/api/v1/export.ndjson", "/api/v1/export.csv",
		"/api/v1/export/eurocities.json", "/api/v1/datapackage.json", "/api/v1/schema/eurocities.json",
		"/api/v1/schema/algorithm.json", "/api/openapi.json", "/catalog.jsonld", "/catalog.ttl",
		"/log/checkpoint", "/log/key"}
	for _, l := range i18n.Langs {
		out = append(out, "/"+string(l)+"/", "/"+string(l)+"/algorithms", "/"+string(l)+"/log", "/"+string(l)+"/feed.atom")
	}
	_ = fs.WalkDir(assets.FS, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, "/"+p)
		}
		return nil
	})
	return out
}

// workers is how many requests the crawl keeps in flight: enough to overlap rendering
// with the database's round trips, few enough to leave the machine to others.
const workers = 4

// fetched is one answer, handed from a worker to the crawl.
type fetched struct {
	key string
	res *response
	err error
}

// crawl fetches every key reachable from the roots and writes what it gets, links as they
// are; rewrite fixes them once every key's file is known. Workers only ask the handler;
// everything else happens here, in one goroutine.
func (b *builder) crawl() error {
	// "/" chooses a language by cookie: the site's root page does that statically.
	b.targets["/"] = &target{file: "index.html"}
	for _, k := range roots() {
		b.enqueue(k)
	}
	ctx, cancel := context.WithCancel(b.ctx)
	jobs, results := make(chan string), make(chan fetched)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for key := range jobs {
				res, err := b.get(ctx, key)
				select {
				case results <- fetched{key, res, err}:
				case <-ctx.Done():
					res.discard()
					return
				}
			}
		})
	}
	defer func() {
		cancel()
		close(jobs)
		wg.Wait()
	}()
	for inflight := 0; len(b.queue) > 0 || inflight > 0; {
		var send chan string
		var next string
		if len(b.queue) > 0 {
			send, next = jobs, b.queue[0]
		}
		select {
		case send <- next:
			b.queue, inflight = b.queue[1:], inflight+1
		case f := <-results:
			inflight--
			if err := b.store(f); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (b *builder) enqueue(key string) {
	if _, seen := b.targets[key]; !seen {
		b.targets[key] = &target{}
		b.queue = append(b.queue, key)
	}
}

// resolve follows redirects from key to the target that holds a file, if any.
func (b *builder) resolve(key string) *target {
	t := b.targets[key]
	for range 10 {
		if t == nil || t.alias == "" {
			return t
		}
		t = b.targets[t.alias]
	}
	return nil
}

// store writes the answer to key into the site and queues what it links to.
func (b *builder) store(f fetched) error {
	key, res, err := f.key, f.res, f.err
	defer res.discard() // nothing left to discard when the body was moved into the site
	if err != nil {
		return fmt.Errorf("site: GET %s: %w", key, err)
	}
	t := b.targets[key]
	switch {
	case res.status >= 300 && res.status < 400:
		b.redirect(key, t, res.header.Get("Location"))
		return nil
	case res.tmp == nil && res.status >= 500:
		return fmt.Errorf("site: GET %s: status %d", key, res.status)
	case res.tmp == nil:
		return nil // not found, or not for anonymous visitors: links to it are removed
	}
	ct := res.header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch mt {
	case "text/html":
		t.kind = htmlDoc
	case "application/atom+xml":
		t.kind = atomDoc
	}
	if t.kind == other && b.opts.Live == "" {
		// Without a live register, a document holding the handler's address (the
		// catalogue, the OpenAPI description) would send its readers where no register is.
		if found, err := contains(res.tmp.Name(), strings.TrimRight(b.opts.Origin, "/")); err != nil || found {
			t.needsLive = true
			return err
		}
	}
	file, ok := fileFor(key, t.kind == htmlDoc, ct)
	if !ok {
		return nil
	}
	t.file = file
	if b.files[file] {
		return nil // a second address of a file already written (/ca and /ca/)
	}
	b.files[file], t.primary = true, true
	dst := filepath.Join(b.root, filepath.FromSlash(file))
	if err := place(res, dst); err != nil {
		return err
	}
	return b.follow(key, dst, t.kind)
}

// redirect records that key leads to location, and queues it when the site can hold it;
// links to key are then written as links to it.
func (b *builder) redirect(key string, t *target, location string) {
	loc, err := url.Parse(location)
	if err != nil || loc.Scheme != "" || loc.Host != "" {
		return
	}
	p, _, _ := strings.Cut(key, "?")
	if k, ok := keyOf((&url.URL{Path: p}).ResolveReference(loc)); ok {
		t.alias = k
		b.enqueue(k)
	}
}

// place moves the body of res to dst.
func place(res *response, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := res.tmp.Close(); err != nil {
		return err
	}
	// A temporary file is private (0600); the site is for a web server to read.
	if err := os.Chmod(res.tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(res.tmp.Name(), dst); err != nil {
		return err
	}
	res.tmp = nil
	return nil
}

// follow queues the addresses a written page or feed links to.
func (b *builder) follow(key, file string, k kind) error {
	if k == other {
		return nil
	}
	doc, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if k == atomDoc {
		for _, next := range b.atomKeys(doc) {
			b.enqueue(next)
		}
		return nil
	}
	scanTags(doc, func(t tag) {
		if t.name == "form" {
			return // a form's target is never static
		}
		for _, a := range t.attrs {
			if isLinkAttr(t.name, a.name) {
				if r := b.parseRef(key, a.val); r.key != "" {
					b.enqueue(r.key)
				}
			}
		}
	})
	return nil
}

// rewrite fixes the links of every page and, without a live register, of every feed.
func (b *builder) rewrite() error {
	for key, t := range b.targets {
		if !t.primary || t.kind == other || (t.kind == atomDoc && b.opts.Live != "") {
			continue
		}
		path := filepath.Join(b.root, filepath.FromSlash(t.file))
		doc, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if t.kind == htmlDoc {
			doc = b.rewriteHTML(doc, t.file, key)
		} else {
			doc = b.rewriteAtom(doc, t.file)
		}
		if err := os.WriteFile(path, doc, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeRoot writes the site's front door, which sends visitors to the Catalan home page
// without a script (as the register's / does when it knows nothing of the visitor), and
// lists the three languages for those whose browser does not follow the refresh; and the
// marker that lets the next Build replace the site.
func (b *builder) writeRoot() error {
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	var titles, items []string
	for _, l := range i18n.Langs {
		name := html.EscapeString(cat.T(l, "Algorithm Registry"))
		titles = append(titles, name)
		items = append(items, fmt.Sprintf(`<li><a href="%s/index.html" hreflang="%s" lang="%s">%s · %s</a></li>`,
			l, l, l, name, html.EscapeString(l.Name())))
	}
	page := fmt.Sprintf(`<!doctype html>
<html lang="%s">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="0; url=%s/index.html">
<title>%s</title>
<link rel="stylesheet" href="static/site.css">
</head>
<body>
<main id="main" class="wrap">
<h1>%s</h1>
<ul>
%s
</ul>
</main>
</body>
</html>
`, i18n.Catalan, i18n.Catalan, strings.Join(titles, " · "), strings.Join(titles, " · "), strings.Join(items, "\n"))
	if err := os.WriteFile(filepath.Join(b.root, "index.html"), []byte(page), 0o644); err != nil {
		return err
	}
	note := "This directory holds the public register as static files, written by `registry site`.\n" +
		"The next run replaces everything in it except hidden files.\n"
	return os.WriteFile(filepath.Join(b.root, marker), []byte(note), 0o644)
}

// stats counts the written site.
func (b *builder) stats() (*Stats, error) {
	s := &Stats{Removed: b.removed}
	for m := range b.missing {
		s.Missing = append(s.Missing, m)
	}
	slices.Sort(s.Missing)
	err := filepath.WalkDir(b.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == marker {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		s.Files++
		s.Bytes += info.Size()
		if strings.HasSuffix(p, ".html") {
			s.Pages++
		}
		return nil
	})
	return s, err
}
