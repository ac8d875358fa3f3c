package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/sync/singleflight"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/web"
)

// GovernanceSource returns the review outcome of a published revision.
type GovernanceSource func(ctx context.Context, revisionID string) (Governance, error)

// Public serves the public register's pages.
type Public struct {
	rd    *web.Renderer
	pages *Pages
	store *algorithms.Store
	gov   GovernanceSource
	cache *pageCache
	// BaseURL is the register's public address (e.g. https://algorismes.example.cat):
	// feeds need absolute links.
	BaseURL string
	// generation counts invalidations, so that a page built from data read before an
	// invalidation is not cached after it (see cached in history.go).
	generation atomic.Uint64
	// builds lets concurrent requests for the same missing page wait for one build (see
	// cached in history.go).
	builds singleflight.Group
	// QA, when set, returns the citizens' questions and the data office's answers published
	// under an entry's fact sheet. Whoever changes them calls Invalidate for the entry.
	QA func(ctx context.Context, algorithmID string) ([]QA, error)
	// Search is the index of published entries behind the index and home pages (search.go).
	Search *Index
}

// QA is a citizen's question (or error report) with the data office's answer, shown under
// the latest fact sheet.
type QA struct {
	Kind       string // "question" or "error"
	Question   string
	Answer     string
	Lang       string // the language the citizen wrote in
	AskedAt    time.Time
	AnsweredAt time.Time
}

// NewPublic returns the public pages.
func NewPublic(rd *web.Renderer, pages *Pages, store *algorithms.Store, gov GovernanceSource) *Public {
	return &Public{rd: rd, pages: pages, store: store, gov: gov, cache: newPageCache(20000)}
}

// Invalidate drops cached pages of an algorithm (or all when algorithmID is empty).
func (p *Public) Invalidate(algorithmID string) {
	p.generation.Add(1)
	p.cache.invalidate(algorithmID)
}

type publicFactsheet struct {
	factsheetData
	Slug      string
	Versions  int
	Published time.Time
	QA        []QA // on the latest fact sheet only
}

// entry resolves the slug in the address: NotFound when no entry has ever had it, and a
// redirect target when it is an old slug of a renamed entry.
func (p *Public) entry(w http.ResponseWriter, r *http.Request, rest string) (*algorithms.Algorithm, bool, error) {
	slug := chi.URLParam(r, "slug")
	alg, err := p.store.BySlug(r.Context(), slug)
	if err != nil {
		return nil, false, err
	}
	if alg.Slug != slug {
		http.Redirect(w, r, "/"+string(web.LangFrom(r.Context()))+"/algorithms/"+alg.Slug+rest, http.StatusMovedPermanently)
		return nil, true, nil
	}
	return alg, false, nil
}

// FactSheet serves the latest published revision of an entry, from the cache.
func (p *Public) FactSheet(w http.ResponseWriter, r *http.Request) error {
	return p.factSheet(w, r, 0, false)
}

// Version serves one published revision at its own, permanent address.
func (p *Public) Version(w http.ResponseWriter, r *http.Request) error {
	n, err := strconv.Atoi(chi.URLParam(r, "n"))
	if err != nil || n < 1 {
		return apperr.New(apperr.NotFound, "")
	}
	return p.factSheet(w, r, n, false)
}

// Markdown serves the fact sheet as Markdown.
func (p *Public) Markdown(w http.ResponseWriter, r *http.Request) error {
	return p.factSheet(w, r, 0, true)
}

func (p *Public) factSheet(w http.ResponseWriter, r *http.Request, number int, asMarkdown bool) error {
	ctx := r.Context()
	lang := web.LangFrom(ctx)
	// The page is kept under its address, so that a cached page is served without asking
	// the database which entry and revision the slug names (three queries and a fact sheet
	// decoded on every request). An address names another revision only after a
	// publication, a rename or an unpublishing, and each of those invalidates the entry's
	// pages, here and on every other instance (Coherence); so do published answers, which
	// the latest fact sheet shows. The slug comes last: it is the one part a visitor types.
	key := "fs|" + string(lang) + "|" + strconv.Itoa(number) + "|" + strconv.FormatBool(asMarkdown) + "|" + chi.URLParam(r, "slug")
	if p.hit(w, r, key) {
		return nil
	}
	// Loaded before the database is read: a page built from what an invalidation has since
	// overtaken is then served to this request only, never kept (see cachedAt).
	gen := p.generation.Load()
	rest := ""
	if number > 0 {
		rest = "/versions/" + strconv.Itoa(number)
	}
	alg, redirected, err := p.entry(w, r, rest)
	if err != nil || redirected {
		return err
	}
	if alg.UnpublishedAt != nil {
		return p.tombstone(w, r, alg)
	}
	var rev *algorithms.Revision
	if number > 0 {
		rev, err = p.store.PublishedByNumber(ctx, alg.ID, number)
	} else {
		rev, err = p.store.LatestPublished(ctx, alg.ID)
	}
	if err != nil {
		return err
	}
	return p.cachedAt(w, r, key, gen, func(ctx context.Context) (*cachedPage, error) {
		return p.buildFactSheet(ctx, alg, rev, lang, number, asMarkdown)
	})
}

// cachedAt is cached (history.go) for a page whose data the caller began to read before
// the call: gen is the generation loaded before that read. The page is kept only if no
// invalidation came since, so a page resolved from a revision that a publication has just
// replaced is never cached under the address, which would serve it until the next change.
func (p *Public) cachedAt(w http.ResponseWriter, r *http.Request, key string, gen uint64, build func(context.Context) (*cachedPage, error)) error {
	v, err, _ := p.builds.Do(key+"#"+strconv.FormatUint(gen, 10), func() (any, error) {
		page, err := build(context.WithoutCancel(r.Context()))
		if err == nil && p.generation.Load() == gen {
			p.cache.put(key, page)
		}
		return page, err
	})
	if err != nil {
		return err
	}
	serveCached(w, r, v.(*cachedPage))
	return nil
}

func (p *Public) buildFactSheet(ctx context.Context, alg *algorithms.Algorithm, rev *algorithms.Revision, lang i18n.Lang, number int, asMarkdown bool) (*cachedPage, error) {
	gov, err := p.gov(ctx, rev.ID)
	if err != nil {
		return nil, err
	}
	doc := Compose(&rev.Sheet, rev.Assessment, gov, string(lang), p.pages.translator(lang))
	page := &cachedPage{algorithmID: alg.ID, lastModified: rev.UpdatedAt.UTC().Format(http.TimeFormat)}
	if asMarkdown {
		page.body = []byte(doc.Markdown())
		page.contentType = "text/markdown; charset=utf-8"
	} else {
		doc.Render()
		rest := "/algorithms/" + alg.Slug
		if number > 0 {
			rest += "/versions/" + strconv.Itoa(number)
		}
		data := publicFactsheet{factsheetData: factsheetData{Doc: doc, Revision: rev.Number, State: rev.State}, Slug: alg.Slug}
		if number == 0 && p.QA != nil {
			if data.QA, err = p.QA(ctx, alg.ID); err != nil {
				return nil, err
			}
		}
		body, err := p.rd.PageBytes(lang, "public/factsheet", web.Page{Title: doc.Title, Data: data, Alternates: alternates(rest)})
		if err != nil {
			return nil, err
		}
		page.body, page.contentType = body, "text/html; charset=utf-8"
	}
	page.etag = strongETag(page.body)
	return page, nil
}

// The header values every cached page shares. Assigned rather than Set (see header).
var (
	varyAcceptEncoding = []string{"Accept-Encoding"}
	publicCacheControl = []string{"public, max-age=60"}
	gzipEncoding       = []string{"gzip"}
)

// serveCached writes a cached page with a strong ETag, answering 304 to a matching
// If-None-Match, and only headers to HEAD. A client that accepts gzip (every browser) gets
// the page compressed, a representation of its own with its own ETag: a third of the
// bytes. Header and page leave in one write (web.WriteWhole).
func serveCached(w http.ResponseWriter, r *http.Request, page *cachedPage) {
	h := w.Header()
	h["Vary"] = varyAcceptEncoding
	compressed := false
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		if gz := page.gzipped(); gz != nil {
			page, compressed = gz, true
		}
	}
	ph := page.header()
	h["Etag"] = ph.etag
	h["Last-Modified"] = ph.lastModified
	h["Cache-Control"] = publicCacheControl
	if match := r.Header.Get("If-None-Match"); match != "" && match == page.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if compressed {
		h["Content-Encoding"] = gzipEncoding
	}
	h["Content-Type"] = ph.contentType
	h["Content-Length"] = ph.contentLength
	web.WriteWhole(w, r, http.StatusOK, page.body)
}

// pageHeader holds a cached page's own header values, made once, so that serving it
// assigns them to the response's header map instead of canonicalising names and
// allocating slices. Sharing them between responses is safe: Header.Set replaces a slice,
// and Header.Add appends to one whose capacity is full, which copies it.
type pageHeader struct {
	etag, lastModified, contentType, contentLength []string
}

func (c *cachedPage) header() *pageHeader {
	c.headerOnce.Do(func() {
		c.hdr = pageHeader{
			etag:          []string{c.etag},
			lastModified:  []string{c.lastModified},
			contentType:   []string{c.contentType},
			contentLength: []string{strconv.Itoa(len(c.body))},
		}
	})
	return &c.hdr
}

// gzipped returns the page compressed with gzip, compressing it on the first call; nil when
// compression does not make it smaller.
func (c *cachedPage) gzipped() *cachedPage {
	c.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level: no error
		_, _ = zw.Write(c.body)                                  // a bytes.Buffer does not fail
		_ = zw.Close()
		if buf.Len() >= len(c.body) {
			return
		}
		c.gz = &cachedPage{body: buf.Bytes(), etag: strongETag(buf.Bytes()), lastModified: c.lastModified,
			contentType: c.contentType, algorithmID: c.algorithmID}
	})
	return c.gz
}

// strongETag is the entity tag of a representation: a hash of its bytes.
func strongETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// acceptsGzip reports whether an Accept-Encoding header lists gzip with a quality above 0.
func acceptsGzip(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if coding = strings.TrimSpace(coding); !strings.EqualFold(coding, "gzip") && !strings.EqualFold(coding, "x-gzip") {
			continue
		}
		for param := range strings.SplitSeq(params, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(param), "=")
			if strings.EqualFold(strings.TrimSpace(name), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}

func (p *Public) tombstone(w http.ResponseWriter, r *http.Request, alg *algorithms.Algorithm) error {
	return p.rd.Render(w, r, http.StatusGone, "public/tombstone", web.Page{Title: p.rd.T(r, "Withdrawn from the register"),
		Data: alg})
}

// alternates returns the address of a public page in each language.
func alternates(rest string) map[i18n.Lang]string {
	out := map[i18n.Lang]string{}
	for _, l := range i18n.Langs {
		out[l] = "/" + string(l) + rest
	}
	return out
}
