package publish

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/web"
)

// Paging of the listing.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
	// maxFilterLength caps the free-text filters, in characters.
	maxFilterLength = 200
)

// APIPrefix is where the public JSON API lives.
const APIPrefix = "/api/v1/algorithms"

// API serves the public register as JSON under /api/v1: anyone may read it, without
// credentials. It shows only published revisions; a draft, a revision in review or one
// that was never published answers exactly like an entry that does not exist.
type API struct {
	store  *algorithms.Store
	search *Index
	rd     *web.Renderer
}

// NewAPI returns the public read API on store, searching with search, answering errors
// with rd.
func NewAPI(store *algorithms.Store, search *Index, rd *web.Renderer) *API {
	return &API{store: store, search: search, rd: rd}
}

// errNotPublished is the answer for anything the public may not see. Its message is the
// store's for an unknown entry, so that the two cannot be told apart.
var errNotPublished = apperr.New(apperr.NotFound, "No such algorithm.")

// RecordPage is one page of the listing.
type RecordPage struct {
	Items []*algorithms.Record `json:"items"`
	// NextCursor continues the listing after the last item; null on the last page.
	NextCursor *string `json:"next_cursor"`
}

// List answers with the latest published revision of each entry matching the filters of
// the public index (q, domain, department, risk, status, type), ordered by slug, a page at
// a time: limit items (default 50, at most 200) after the opaque cursor.
func (a *API) List(w http.ResponseWriter, r *http.Request) error {
	opts, text, err := listOptions(r.URL.Query())
	if err != nil {
		return err
	}
	if strings.TrimSpace(text) != "" {
		if opts.AlgorithmIDs, err = a.search.Matching(r.Context(), text); err != nil {
			return err
		}
		if opts.AlgorithmIDs == nil {
			opts.AlgorithmIDs = []string{} // found nothing: keep nothing
		}
	}
	size := opts.Limit
	opts.Limit = size + 1 // one more tells whether there is a next page
	page := RecordPage{Items: []*algorithms.Record{}}
	err = a.store.EachPublished(r.Context(), opts, func(rec *algorithms.Record) error {
		page.Items = append(page.Items, rec)
		return nil
	})
	if err != nil {
		return err
	}
	if len(page.Items) > size {
		page.Items = page.Items[:size]
		next := encodeCursor(page.Items[size-1].Slug)
		page.NextCursor = &next
		q := r.URL.Query()
		q.Set("cursor", next)
		w.Header().Set("Link", "<"+APIPrefix+"?"+q.Encode()+`>; rel="next"`)
	}
	return writeJSON(w, r, page)
}

// listOptions reads the listing's query parameters. A value that cannot be right (an
// unknown domain, a limit out of range, a cursor this server did not make) is refused with
// 422 naming the parameter, rather than quietly answering something else.
func listOptions(q url.Values) (opts algorithms.EachOptions, text string, err error) {
	opts = algorithms.EachOptions{Department: q.Get("department"), Domain: q.Get("domain"),
		Risk: q.Get("risk"), Status: q.Get("status"), Type: q.Get("type"), Limit: DefaultPageSize}
	text = q.Get("q")
	fields := map[string]string{}
	for name, v := range map[string]string{"q": text, "department": opts.Department} {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) || utf8.RuneCountInString(v) > maxFilterLength {
			fields[name] = "Use at most 200 characters of text."
		}
	}
	for name, allowed := range map[string][]string{"domain": algorithms.Domains, "risk": algorithms.RiskCategories,
		"status": algorithms.Statuses, "type": algorithms.Types} {
		if v := q.Get(name); v != "" && !slices.Contains(allowed, v) {
			fields[name] = "Choose one of the options."
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			fields["limit"] = "Use a whole number from 1 to 200."
		}
		opts.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		slug, ok := decodeCursor(v)
		if !ok {
			fields["cursor"] = "This cursor is not valid. Start again from the first page."
		}
		opts.AfterSlug = slug
	}
	if len(fields) > 0 {
		return opts, text, apperr.InvalidFields("Please correct the errors below.", fields)
	}
	return opts, text, nil
}

// The cursor is the last slug of a page, base64url-encoded: opaque to clients, so that
// the ordering can change without breaking their code, and checked when it comes back.
func encodeCursor(slug string) string { return base64.RawURLEncoding.EncodeToString([]byte(slug)) }

func decodeCursor(c string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > maxFilterLength {
		return "", false
	}
	for _, ch := range b {
		if (ch < 'a' || ch > 'z') && (ch < '0' || ch > '9') && ch != '-' {
			return "", false
		}
	}
	return string(b), true
}

// Algorithm answers with the latest published revision of the entry named by its slug.
func (a *API) Algorithm(w http.ResponseWriter, r *http.Request) error {
	alg, done, err := a.entry(w, r, "")
	if err != nil || done {
		return err
	}
	rec, err := a.record(r.Context(), algorithms.EachOptions{AlgorithmID: alg.ID})
	if err != nil {
		return err
	}
	return writeJSON(w, r, rec)
}

// Version answers with one published revision, by number.
func (a *API) Version(w http.ResponseWriter, r *http.Request) error {
	n, err := strconv.Atoi(chi.URLParam(r, "n"))
	if err != nil || n < 1 {
		return errNotPublished
	}
	alg, done, err := a.entry(w, r, "/versions/"+strconv.Itoa(n))
	if err != nil || done {
		return err
	}
	rec, err := a.record(r.Context(), algorithms.EachOptions{AlgorithmID: alg.ID, AllVersions: true, Revision: n})
	if err != nil {
		return err
	}
	return writeJSON(w, r, rec)
}

// VersionItem is one published revision in an entry's history.
type VersionItem struct {
	Revision        int             `json:"revision"`
	PublicationDate string          `json:"publication_date"`
	RevisionNote    algorithms.Text `json:"revision_note"`
	Retired         bool            `json:"retired"`
	Latest          bool            `json:"latest"`
	URL             string          `json:"url"`
}

// VersionList is an entry's published history, newest first.
type VersionList struct {
	UUID     string        `json:"uuid"`
	Slug     string        `json:"slug"`
	Versions []VersionItem `json:"versions"`
}

// Versions answers with the entry's published revisions, newest first.
func (a *API) Versions(w http.ResponseWriter, r *http.Request) error {
	alg, done, err := a.entry(w, r, "/versions")
	if err != nil || done {
		return err
	}
	h := VersionList{UUID: alg.ID, Slug: alg.Slug, Versions: []VersionItem{}}
	err = a.store.EachPublished(r.Context(), algorithms.EachOptions{AlgorithmID: alg.ID, AllVersions: true}, func(rec *algorithms.Record) error {
		note := rec.RevisionNote
		if note == nil {
			note = algorithms.Text{}
		}
		h.Versions = append(h.Versions, VersionItem{Revision: rec.Revision, PublicationDate: rec.LastChangeDate,
			RevisionNote: note, Retired: rec.Retired, Latest: rec.Latest,
			URL: APIPrefix + "/" + alg.Slug + "/versions/" + strconv.Itoa(rec.Revision)})
		return nil
	})
	if err != nil {
		return err
	}
	if len(h.Versions) == 0 {
		return errNotPublished
	}
	slices.Reverse(h.Versions)
	return writeJSON(w, r, h)
}

// record returns the one published revision opts selects; NotFound when there is none.
func (a *API) record(ctx context.Context, opts algorithms.EachOptions) (*algorithms.Record, error) {
	var found *algorithms.Record
	err := a.store.EachPublished(ctx, opts, func(rec *algorithms.Record) error {
		found = rec
		return nil
	})
	if err == nil && found == nil {
		err = errNotPublished
	}
	return found, err
}

// entry resolves the slug in the address. It answers itself (done) with 301 for an old
// slug of a renamed entry, sending the client to rest under the current slug, and with
// 410 and the public reason for an entry an administrator unpublished. An unknown slug is
// NotFound; so is an entry that was never published, whatever the state of its drafts.
func (a *API) entry(w http.ResponseWriter, r *http.Request, rest string) (*algorithms.Algorithm, bool, error) {
	slug := chi.URLParam(r, "slug")
	alg, err := a.store.BySlug(r.Context(), slug)
	if apperr.Is(err, apperr.NotFound) {
		return nil, false, errNotPublished
	}
	if err != nil {
		return nil, false, err
	}
	if alg.Slug != slug {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.Redirect(w, r, APIPrefix+"/"+alg.Slug+rest, http.StatusMovedPermanently)
		return nil, true, nil
	}
	if alg.UnpublishedAt != nil {
		// A tombstone says an entry was public; one that never was stays unknown.
		if _, err := a.store.LatestPublished(r.Context(), alg.ID); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return nil, false, errNotPublished
			}
			return nil, false, err
		}
		a.gone(w, r, alg)
		return nil, true, nil
	}
	return alg, false, nil
}

// Tombstone is what remains public of an unpublished entry.
type Tombstone struct {
	UUID          string    `json:"uuid"`
	Slug          string    `json:"slug"`
	Reason        string    `json:"reason"`
	UnpublishedAt time.Time `json:"unpublished_at"`
}

type goneBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Tombstone Tombstone `json:"tombstone"`
}

// gone answers 410 with the error shape, its message carrying the public reason, and the
// tombstone beside it for programs. It is written here rather than through web.Error
// because it is the entry's public state, like the tombstone page, not a failure.
func (a *API) gone(w http.ResponseWriter, r *http.Request, alg *algorithms.Algorithm) {
	var b goneBody
	b.Error.Code = "gone"
	b.Error.Message = a.rd.T(r, "The data office withdrew this entry from the public register on %s. Reason: %s",
		alg.UnpublishedAt.UTC().Format(time.DateOnly), alg.UnpublishReason)
	b.Tombstone = Tombstone{UUID: alg.ID, Slug: alg.Slug, Reason: alg.UnpublishReason, UnpublishedAt: alg.UnpublishedAt.UTC()}
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("Vary", "Accept-Language")
	web.WriteJSON(w, http.StatusGone, b)
}

// writeJSON answers with v and a strong ETag of the exact bytes: 304 to a client whose
// copy is current (If-None-Match), only the headers to HEAD. Published revisions never
// change, so a cache may keep the answer a minute and then revalidate it cheaply.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=60")
	if noneMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// noneMatch reports whether If-None-Match values name etag (compared weakly, RFC 9110
// §13.1.2) or are "*".
func noneMatch(values []string, etag string) bool {
	for _, v := range values {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == etag {
				return true
			}
		}
	}
	return false
}

// CORS lets any web page read the public API: its data is public and needs no
// credentials, so the answer is "*" and never Allow-Credentials (a browser then sends no
// cookies, and no page can act as a signed-in visitor). Programs read ETag and Retry-After.
func CORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Access-Control-Expose-Headers", "ETag, Link, Retry-After")
		}
		next.ServeHTTP(w, r)
	})
}

// Preflight answers a browser's CORS preflight (OPTIONS) for a public API address: reads
// only, with If-None-Match for revalidation.
func Preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "If-None-Match")
	h.Set("Access-Control-Max-Age", "86400")
	h.Set("Allow", "GET, HEAD, OPTIONS")
	w.WriteHeader(http.StatusNoContent)
}
