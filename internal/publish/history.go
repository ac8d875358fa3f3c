package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/diff"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/markdown"
	"github.com/civictech/registry/internal/web"
)

// versionsData is what the history page shows.
type versionsData struct {
	Slug      string
	Name      string
	NameLang  string // set when the name is shown in another language than the page's
	Versions  []versionRow
	From, To  int // preselected in the compare form: the two newest versions
	FeedTitle string
}

// versionRow is one published revision in the history.
type versionRow struct {
	Number       int
	Published    time.Time
	DecisionDate string
	Approvals    int
	Conditions   []string
	// ConditionsLang is the entry's original language, which the committee's conditions
	// are written in, when it is not the page's.
	ConditionsLang string
	Retirement     bool
	Latest         bool
	Note           template.HTML
	NoteLang       string // set when the note is a fallback to another language
	Previous       int    // the published revision before this one; 0 for the first
}

// diffData is what the comparison page shows.
type diffData struct {
	Slug     string
	Name     string
	NameLang string
	From, To diffSide
	Changes  []fieldDiff
}

// diffSide is one of the two revisions compared.
type diffSide struct {
	Number int
	Date   string
}

// fieldDiff is one changed field, its word diff rendered with accessible markup.
type fieldDiff struct {
	Field    string
	Label    string
	HTML     template.HTML
	Fallback string // the language the compared text is in, when not the page's
}

// Versions serves the history of an entry: every published revision, newest first, with
// its change note and the committee's outcome, and links to compare them. Revisions that
// were never published (drafts, those in review, rejected or withdrawn) are not shown.
func (p *Public) Versions(w http.ResponseWriter, r *http.Request) error {
	lang := web.LangFrom(r.Context())
	return p.entryPage(w, r, "versions", "/versions", func(ctx context.Context, alg *algorithms.Algorithm) (*cachedPage, error) {
		return p.buildVersions(ctx, alg, lang)
	})
}

// entryPage serves a page of the entry in the address, kind at rest after its slug: from
// the cache by address when it holds one; else a redirect for an old slug, the tombstone
// of an unpublished entry, or the page build makes (cached unless an invalidation came
// meanwhile).
func (p *Public) entryPage(w http.ResponseWriter, r *http.Request, kind, rest string,
	build func(context.Context, *algorithms.Algorithm) (*cachedPage, error)) error {
	key := addressKey(r, kind)
	if p.hit(w, r, key) {
		return nil
	}
	gen := p.generation.Load() // before the database is read (see factSheet)
	alg, redirected, err := p.entry(w, r, rest)
	if err != nil || redirected {
		return err
	}
	if alg.UnpublishedAt != nil {
		return p.tombstone(w, r, alg)
	}
	return p.cachedAt(w, r, key, gen, func(ctx context.Context) (*cachedPage, error) { return build(ctx, alg) })
}

// addressKey is the cache key of a page of an entry under its address: kind, the page's
// language, and what the address holds after the slug (a revision range), then the slug.
// Like a fact sheet (see factSheet), such a page is found without asking the database which
// entry the slug names; every change that could make the address name something else
// invalidates the entry's pages.
func addressKey(r *http.Request, kind string, rest ...string) string {
	return kind + "|" + string(web.LangFrom(r.Context())) + "|" + strings.Join(rest, "|") + "|" + chi.URLParam(r, "slug")
}

// hit serves the page cached under key, when there is one.
func (p *Public) hit(w http.ResponseWriter, r *http.Request, key string) bool {
	page, ok := p.cache.get(key)
	if ok {
		serveCached(w, r, page)
	}
	return ok
}

// history returns the published revisions of an entry, oldest first; NotFound when it has
// none.
func (p *Public) history(ctx context.Context, algorithmID string) ([]*algorithms.Record, error) {
	var recs []*algorithms.Record
	err := p.store.EachPublished(ctx, algorithms.EachOptions{AllVersions: true, AlgorithmID: algorithmID},
		func(rec *algorithms.Record) error {
			recs = append(recs, rec)
			return nil
		})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, apperr.New(apperr.NotFound, "")
	}
	return recs, nil
}

func (p *Public) buildVersions(ctx context.Context, alg *algorithms.Algorithm, lang i18n.Lang) (*cachedPage, error) {
	recs, err := p.history(ctx, alg.ID)
	if err != nil {
		return nil, err
	}
	t := p.pages.translator(lang)
	latest := recs[len(recs)-1]
	data := versionsData{Slug: alg.Slug}
	data.Name, data.NameLang = inLang(latest.Name, string(lang), latest.Lang)
	for i := len(recs) - 1; i >= 0; i-- {
		rec := recs[i]
		row := versionRow{Number: rec.Revision, Published: rec.PublishedAt, DecisionDate: rec.Governance.DecisionDate,
			Approvals: rec.Governance.Approvals, Conditions: rec.Governance.Conditions,
			Retirement: rec.Retired, Latest: i == len(recs)-1}
		if rec.Lang != string(lang) {
			row.ConditionsLang = rec.Lang
		}
		var note string
		note, row.NoteLang = inLang(rec.RevisionNote, string(lang), rec.Lang)
		row.Note = markdown.Render(note)
		if i > 0 {
			row.Previous = recs[i-1].Revision
		}
		data.Versions = append(data.Versions, row)
	}
	data.To = latest.Revision
	data.From = data.To
	if len(recs) > 1 {
		data.From = recs[len(recs)-2].Revision
	}
	data.FeedTitle = t("Changes to %s", data.Name)
	body, err := p.rd.PageBytes(lang, "public/versions", web.Page{Title: t("History: %s", data.Name), Data: data,
		Alternates: alternates("/algorithms/" + alg.Slug + "/versions")})
	if err != nil {
		return nil, err
	}
	return newPage(alg.ID, body, "text/html; charset=utf-8", latest.PublishedAt), nil
}

// inLang returns text in lang, else in the original language and then any other, with the
// language it fell back to ("" when it is in lang).
func inLang(text algorithms.Text, lang, original string) (string, string) {
	s, fallback := text.In(lang, original, "ca", "es", "en")
	if !fallback {
		return s, ""
	}
	for _, l := range []string{original, "ca", "es", "en"} {
		if strings.TrimSpace(text[l]) != "" {
			return s, l
		}
	}
	return s, ""
}

// Compare answers the compare form of the history page (a GET form, so that it works
// without JavaScript) by sending the reader to the comparison's own address.
func (p *Public) Compare(w http.ResponseWriter, r *http.Request) error {
	alg, err := p.store.BySlug(r.Context(), chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	a, errA := strconv.Atoi(r.URL.Query().Get("from"))
	b, errB := strconv.Atoi(r.URL.Query().Get("to"))
	if errA != nil || errB != nil || a < 1 || b < 1 {
		return apperr.New(apperr.BadRequest, "Choose two versions to compare.")
	}
	a, b = min(a, b), max(a, b)
	http.Redirect(w, r, diffPath(web.LangFrom(r.Context()), alg.Slug, a, b), http.StatusSeeOther)
	return nil
}

func diffPath(lang i18n.Lang, slug string, a, b int) string {
	return "/" + string(lang) + "/algorithms/" + slug + "/diff/" + strconv.Itoa(a) + ".." + strconv.Itoa(b)
}

// parseRange reads "a..b" with two revision numbers of 1 or more.
func parseRange(s string) (a, b int, ok bool) {
	as, bs, found := strings.Cut(s, "..")
	if !found {
		return 0, 0, false
	}
	a, errA := strconv.Atoi(as)
	b, errB := strconv.Atoi(bs)
	if errA != nil || errB != nil || a < 1 || b < 1 {
		return 0, 0, false
	}
	return a, b, true
}

// Diff serves a word-level comparison of two published revisions, field by field. The
// older is always on the left: b..a (or a number written as 01 or +1) is sent,
// permanently, to the one address of the comparison.
func (p *Public) Diff(w http.ResponseWriter, r *http.Request) error {
	lang := web.LangFrom(r.Context())
	a, b, ok := parseRange(chi.URLParam(r, "range"))
	if !ok {
		return apperr.New(apperr.NotFound, "")
	}
	a, b = min(a, b), max(a, b)
	canonical := strconv.Itoa(a) + ".." + strconv.Itoa(b)
	key := addressKey(r, "diff", canonical)
	if chi.URLParam(r, "range") == canonical && p.hit(w, r, key) {
		return nil
	}
	gen := p.generation.Load()
	alg, redirected, err := p.entry(w, r, "/diff/"+canonical)
	if err != nil || redirected {
		return err
	}
	if chi.URLParam(r, "range") != canonical {
		http.Redirect(w, r, diffPath(lang, alg.Slug, a, b), http.StatusMovedPermanently)
		return nil
	}
	if alg.UnpublishedAt != nil {
		return p.tombstone(w, r, alg)
	}
	return p.cachedAt(w, r, key, gen, func(ctx context.Context) (*cachedPage, error) {
		return p.buildDiff(ctx, alg, lang, a, b)
	})
}

func (p *Public) buildDiff(ctx context.Context, alg *algorithms.Algorithm, lang i18n.Lang, a, b int) (*cachedPage, error) {
	old, err := p.store.PublishedByNumber(ctx, alg.ID, a)
	if err != nil {
		return nil, err
	}
	cur, err := p.store.PublishedByNumber(ctx, alg.ID, b)
	if err != nil {
		return nil, err
	}
	govOld, err := p.gov(ctx, old.ID)
	if err != nil {
		return nil, err
	}
	govCur, err := p.gov(ctx, cur.ID)
	if err != nil {
		return nil, err
	}
	t := p.pages.translator(lang)
	data := diffData{Slug: alg.Slug, From: diffSide{a, govOld.Date}, To: diffSide{b, govCur.Date}}
	data.Name, data.NameLang = inLang(cur.Sheet.Name, string(lang), cur.Sheet.Lang)
	added, removed := t("added:"), t("removed:")
	for _, c := range diff.FactSheets(&old.Sheet, &cur.Sheet, string(lang), func(key string) string { return t(key) }) {
		data.Changes = append(data.Changes, fieldDiff{Field: c.Field, Label: c.Label,
			HTML: accessibleDiff(c.Ops, added, removed), Fallback: comparedLang(&old.Sheet, &cur.Sheet, c.Field, string(lang))})
	}
	body, err := p.rd.PageBytes(lang, "public/diff", web.Page{Title: t("Changes between version %d and version %d", a, b),
		Data: data, Alternates: alternates("/algorithms/" + alg.Slug + "/diff/" + strconv.Itoa(a) + ".." + strconv.Itoa(b))})
	if err != nil {
		return nil, err
	}
	return newPage(alg.ID, body, "text/html; charset=utf-8", cur.UpdatedAt), nil
}

// comparedLang returns the language diff.FactSheets compared a free-text field in when it
// is not lang (neither version has it in lang), so that the page can say so; "" otherwise.
func comparedLang(old, cur *algorithms.FactSheet, field, lang string) string {
	ot, ok1 := textField(old, field)
	nt, ok2 := textField(cur, field)
	if !ok1 || !ok2 || strings.TrimSpace(ot[lang]) != "" || strings.TrimSpace(nt[lang]) != "" {
		return ""
	}
	return cur.Lang
}

// textField returns the free-text field with JSON name field, if it is one.
func textField(sheet *algorithms.FactSheet, field string) (algorithms.Text, bool) {
	v := reflect.ValueOf(sheet).Elem()
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name == field {
			t, ok := v.Field(i).Interface().(algorithms.Text)
			return t, ok
		}
	}
	return nil, false
}

// accessibleDiff renders ops as HTML like diff.HTML, and also says in words, to screen
// readers, where each insertion and deletion starts and ends: colour and strike-through
// alone would not carry the meaning. Every piece of text is escaped.
func accessibleDiff(ops []diff.Op, added, removed string) template.HTML {
	var sb strings.Builder
	mark := func(tag, label, text string) {
		sb.WriteString("<" + tag + "><span class=\"visually-hidden\">[" + template.HTMLEscapeString(label) + " </span>")
		sb.WriteString(text)
		sb.WriteString("<span class=\"visually-hidden\">]</span></" + tag + ">")
	}
	for _, op := range ops {
		text := template.HTMLEscapeString(strings.ReplaceAll(op.Text, "\r\n", "\n"))
		text = strings.ReplaceAll(text, "\n", "<br>")
		switch op.Kind {
		case diff.Insert:
			mark("ins", added, text)
		case diff.Delete:
			mark("del", removed, text)
		default:
			sb.WriteString(text)
		}
	}
	return template.HTML(sb.String()) //nolint:gosec // every piece of text is escaped above
}

// cached serves the page cached under key, building it on a miss. key must name the
// algorithm (pages are dropped by cachedPage.algorithmID, not by key, but keys of two
// entries must not collide). Concurrent misses of one key wait for a single build, which
// runs to its end even if the client that started it leaves, so that a publication does
// not send every feed reader to the database at once. A page built while the cache was
// invalidated is served but not kept: it may have been built from data read before the
// change.
func (p *Public) cached(w http.ResponseWriter, r *http.Request, key string, build func(context.Context) (*cachedPage, error)) error {
	if p.hit(w, r, key) {
		return nil
	}
	// A request that comes after an invalidation must not join a build that started before
	// it: cachedAt keys the build by the generation read now.
	return p.cachedAt(w, r, key, p.generation.Load(), build)
}

// newPage wraps a rendered body with its strong ETag.
func newPage(algorithmID string, body []byte, contentType string, modified time.Time) *cachedPage {
	sum := sha256.Sum256(body)
	return &cachedPage{algorithmID: algorithmID, body: body, contentType: contentType,
		etag: `"` + hex.EncodeToString(sum[:12]) + `"`, lastModified: modified.UTC().Format(http.TimeFormat)}
}
