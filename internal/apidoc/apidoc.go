// Package apidoc describes the register to machines: the JSON Schema of the native record,
// the OpenAPI 3.1 document of the JSON API, and the DCAT-AP 3 catalogue that open data
// portals harvest (JSON-LD and Turtle). The schema is generated from the Go types; the
// OpenAPI document is written by hand around it; the catalogue is built from the register's
// publication dates.
package apidoc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/civictech/registry/internal/algorithms"
)

// Source reads published revisions one at a time; *algorithms.Store is the real one.
type Source interface {
	EachPublished(ctx context.Context, opts algorithms.EachOptions, fn func(*algorithms.Record) error) error
}

// catalogueTTL is how long a built catalogue is served before it is built again. Harvesters
// come daily; a minute keeps a busy server from reading the register on every request, and
// needs no invalidation across instances.
const catalogueTTL = time.Minute

// Handlers serve the descriptions to anyone.
type Handlers struct {
	base    string
	pub     Publisher
	src     Source
	openapi document
	schema  document

	mu      sync.Mutex
	built   time.Time
	catalog [2]document // JSON-LD, Turtle
}

// document is a body served with a strong ETag.
type document struct {
	body         []byte
	etag         string
	contentType  string
	cacheControl string
	modified     time.Time
}

func newDocument(body []byte, contentType, cacheControl string) document {
	sum := sha256.Sum256(body)
	return document{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, contentType: contentType,
		cacheControl: cacheControl}
}

// New builds the OpenAPI document and the record schema for the register served at
// baseURL, which must be an absolute http(s) address: the catalogue's links must work
// wherever it is harvested from. pub is who the catalogue names as the publisher.
func New(baseURL string, pub Publisher, src Source) (*Handlers, error) {
	base, err := normaliseBase(baseURL)
	if err != nil {
		return nil, err
	}
	if err := pub.Validate(); err != nil {
		return nil, err
	}
	openapi, err := OpenAPI(base)
	if err != nil {
		return nil, err
	}
	schema, err := RecordSchema(base)
	if err != nil {
		return nil, err
	}
	return &Handlers{base: base, pub: pub, src: src,
		openapi: newDocument(openapi, "application/vnd.oai.openapi+json;version=3.1", "public, max-age=3600"),
		schema:  newDocument(schema, "application/schema+json", "public, max-age=3600")}, nil
}

// normaliseBase checks the base address and drops its trailing slash.
func normaliseBase(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("apidoc: the base address %q must be an absolute http(s) URL, e.g. https://algorismes.example.cat", baseURL)
	}
	base := strings.TrimRight(u.String(), "/")
	if err := checkIRI(base); err != nil {
		return "", err
	}
	return base, nil
}

// OpenAPI serves the OpenAPI document.
func (h *Handlers) OpenAPI(w http.ResponseWriter, r *http.Request) error {
	serve(w, r, h.openapi)
	return nil
}

// RecordSchema serves the JSON Schema of the native record.
func (h *Handlers) RecordSchema(w http.ResponseWriter, r *http.Request) error {
	serve(w, r, h.schema)
	return nil
}

// CatalogJSONLD serves the DCAT-AP catalogue as JSON-LD.
func (h *Handlers) CatalogJSONLD(w http.ResponseWriter, r *http.Request) error {
	docs, err := h.catalogue(r.Context())
	if err != nil {
		return err
	}
	serve(w, r, docs[0])
	return nil
}

// CatalogTurtle serves the DCAT-AP catalogue as Turtle.
func (h *Handlers) CatalogTurtle(w http.ResponseWriter, r *http.Request) error {
	docs, err := h.catalogue(r.Context())
	if err != nil {
		return err
	}
	serve(w, r, docs[1])
	return nil
}

// catalogue returns both serialisations of the catalogue, built from one reading of the
// register so that they agree. Requests wait for a build in progress rather than start
// their own.
func (h *Handlers) catalogue(ctx context.Context) ([2]document, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.built.IsZero() && time.Since(h.built) < catalogueTTL {
		return h.catalog, nil
	}
	st, err := statsOf(ctx, h.src)
	if err != nil {
		return [2]document{}, err
	}
	jsonld, turtle, err := writeCatalogue(h.base, h.pub, st)
	if err != nil {
		return [2]document{}, err
	}
	h.catalog = [2]document{
		newDocument(jsonld, "application/ld+json", "public, max-age=60"),
		newDocument(turtle, "text/turtle; charset=utf-8", "public, max-age=60"),
	}
	h.catalog[0].modified, h.catalog[1].modified = st.modified, st.modified
	h.built = time.Now()
	return h.catalog, nil
}

// writeCatalogue writes the catalogue of the register at base as JSON-LD and as Turtle.
func writeCatalogue(base string, pub Publisher, st registerStats) (jsonld, turtle []byte, err error) {
	g := catalogue(base, pub, st)
	if jsonld, err = g.jsonLD(); err != nil {
		return nil, nil, err
	}
	if turtle, err = g.turtle(); err != nil {
		return nil, nil, err
	}
	return jsonld, turtle, nil
}

// serve answers with d: 304 for a current If-None-Match, headers only for HEAD (both from
// http.ServeContent), Last-Modified when the document has a date.
func serve(w http.ResponseWriter, r *http.Request, d document) {
	hd := w.Header()
	hd.Set("Content-Type", d.contentType)
	hd.Set("ETag", d.etag)
	hd.Set("Cache-Control", d.cacheControl)
	http.ServeContent(w, r, "", d.modified, bytes.NewReader(d.body))
}
