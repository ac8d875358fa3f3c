package feedback

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/web"
)

// Handlers serve the public form and the data office's moderation pages.
type Handlers struct {
	store *Store
	rd    *web.Renderer
}

// NewHandlers returns the feedback handlers.
func NewHandlers(store *Store, rd *web.Renderer) *Handlers { return &Handlers{store: store, rd: rd} }

// Honeypot is the name of a form field that people never see (a CSS class hides it) and
// bots fill in. A submission with it is answered as a success and dropped, so that a bot
// learns nothing.
const Honeypot = "website"

type formData struct {
	Name     string
	Slug     string
	Revision int
	Form     *web.Form
}

// entry resolves the address's slug to a published entry. An old slug of a renamed entry
// is redirected when the request is a GET (the page is then done).
func (h *Handlers) entry(w http.ResponseWriter, r *http.Request, rest string) (*Entry, bool, error) {
	slug := chi.URLParam(r, "slug")
	alg, err := h.store.algs.BySlug(r.Context(), slug)
	if err != nil {
		return nil, false, err
	}
	if alg.Slug != slug && r.Method == http.MethodGet {
		http.Redirect(w, r, "/"+string(web.LangFrom(r.Context()))+"/algorithms/"+alg.Slug+rest, http.StatusMovedPermanently)
		return nil, true, nil
	}
	e, err := h.store.Entry(r.Context(), alg.ID)
	return e, false, err
}

// FormPage shows the form to ask a question or report an error about an entry.
func (h *Handlers) FormPage(w http.ResponseWriter, r *http.Request) error {
	e, done, err := h.entry(w, r, "/feedback")
	if err != nil || done {
		return err
	}
	f := web.NewForm(nil)
	if n, err := strconv.Atoi(r.URL.Query().Get("revision")); err == nil && n > 0 && n <= e.Latest.Number {
		f.Values.Set("revision", strconv.Itoa(n))
	}
	return h.renderForm(w, r, http.StatusOK, e, f)
}

func (h *Handlers) renderForm(w http.ResponseWriter, r *http.Request, status int, e *Entry, f *web.Form) error {
	lang := web.LangFrom(r.Context())
	rev, _ := strconv.Atoi(f.Get("revision"))
	return h.rd.Render(w, r, status, "public/feedback", web.Page{Title: h.rd.T(r, "Ask a question or report an error"),
		Data:       formData{Name: e.Name(string(lang)), Slug: e.Algorithm.Slug, Revision: rev, Form: f},
		Alternates: alternates("/algorithms/" + e.Algorithm.Slug + "/feedback")})
}

// Submit stores a citizen's message: 422 with the form for bad fields, 429 over a limit,
// otherwise a redirect to the thank-you page.
func (h *Handlers) Submit(w http.ResponseWriter, r *http.Request) error {
	e, _, err := h.entry(w, r, "")
	if err != nil {
		return err
	}
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	sent := "/" + string(web.LangFrom(r.Context())) + "/algorithms/" + e.Algorithm.Slug + "/feedback/sent"
	if f.Get(Honeypot) != "" {
		return h.rd.Redirect(w, r, sent, "")
	}
	rev, _ := strconv.Atoi(f.Get("revision"))
	_, err = h.store.Submit(r.Context(), e, Submission{Kind: f.Get("kind"), Body: f.Get("body"), Email: f.Get("email"),
		Revision: rev, Lang: web.LangFrom(r.Context()), ClientIP: web.ClientIP(r)})
	if apperr.Is(err, apperr.Invalid) && h.rd.Fail(r, f, err) {
		return h.renderForm(w, r, http.StatusUnprocessableEntity, e, f)
	}
	if err != nil {
		return err
	}
	return h.rd.Redirect(w, r, sent, "")
}

// Sent thanks the citizen and says what happens next.
func (h *Handlers) Sent(w http.ResponseWriter, r *http.Request) error {
	e, done, err := h.entry(w, r, "/feedback/sent")
	if err != nil || done {
		return err
	}
	lang := web.LangFrom(r.Context())
	return h.rd.Render(w, r, http.StatusOK, "public/feedback_sent", web.Page{Title: h.rd.T(r, "Thank you for your message"),
		Data:       formData{Name: e.Name(string(lang)), Slug: e.Algorithm.Slug},
		Alternates: alternates("/algorithms/" + e.Algorithm.Slug + "/feedback/sent")})
}

// alternates returns the address of a public page in each language.
func alternates(rest string) map[i18n.Lang]string {
	out := map[i18n.Lang]string{}
	for _, l := range i18n.Langs {
		out[l] = "/" + string(l) + rest
	}
	return out
}

// itemView is an item with the name and address of its entry.
type itemView struct {
	*Item
	EntryName string
	Slug      string
}

type moderationData struct {
	Items    []itemView
	Status   string // the tab shown: a state, or "all"
	Statuses []string
	Counts   map[string]int
	Total    int
	Page     int
	More     bool
	Form     *web.Form // the answers and errors of the form that failed, if any
	FormFor  int64     // the item that form belongs to
}

// ModerationPage lists messages, newest first, by state; "new" when the address names none.
func (h *Handlers) ModerationPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	return h.renderModeration(w, r, http.StatusOK, q.Get("status"), max(page, 1), web.NewForm(nil), 0)
}

func (h *Handlers) renderModeration(w http.ResponseWriter, r *http.Request, code int, status string, page int, f *web.Form, formFor int64) error {
	ctx := r.Context()
	if status != "all" && !slices.Contains(Statuses, status) {
		status = StatusNew
	}
	filter := Filter{Status: status, Page: page}
	if status == "all" {
		filter.Status = ""
	}
	items, more, err := h.store.List(ctx, filter)
	if err != nil {
		return err
	}
	counts, err := h.store.Counts(ctx)
	if err != nil {
		return err
	}
	d := moderationData{Status: status, Statuses: Statuses, Counts: counts, Page: page, More: more, Form: f, FormFor: formFor}
	for _, n := range counts {
		d.Total += n
	}
	names := map[string][2]string{}
	for _, it := range items {
		if _, ok := names[it.AlgorithmID]; !ok {
			names[it.AlgorithmID] = h.entryName(ctx, it.AlgorithmID, string(web.LangFrom(ctx)))
		}
		n := names[it.AlgorithmID]
		d.Items = append(d.Items, itemView{Item: it, EntryName: n[0], Slug: n[1]})
	}
	return h.rd.Render(w, r, code, "admin/feedback", web.Page{Title: h.rd.T(r, "Citizen feedback"), Data: d})
}

// entryName returns an entry's name in lang and its slug. An entry unpublished since the
// message arrived keeps the name of its last published revision.
func (h *Handlers) entryName(ctx context.Context, algorithmID, lang string) [2]string {
	alg, err := h.store.algs.Algorithm(ctx, algorithmID)
	if err != nil {
		return [2]string{algorithmID, ""}
	}
	rev, err := h.store.algs.LatestPublished(ctx, alg.ID)
	if err != nil {
		return [2]string{alg.Slug, alg.Slug}
	}
	return [2]string{(&Entry{Algorithm: alg, Latest: rev}).Name(lang), alg.Slug}
}

// Moderate applies one action to a message: answer (with the choice to publish), publish,
// unpublish or reject. A refused answer shows the page again, 422, with the error at the
// item's field and the text kept.
func (h *Handlers) Moderate(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return errNoItem
	}
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	v := web.ViewerFrom(r.Context())
	by := Moderator{UserID: v.ID, Email: v.Email, ClientIP: web.ClientIP(r), RequestID: web.RequestIDOf(r)}
	var flash string
	switch f.Get("action") {
	case "answer":
		err = h.store.Answer(r.Context(), id, f.Get("answer"), f.Get("public") == "1", by)
		flash = "Answer saved."
	case "publish":
		err = h.store.SetPublic(r.Context(), id, true, by)
		flash = "Published under the fact sheet."
	case "unpublish":
		err = h.store.SetPublic(r.Context(), id, false, by)
		flash = "Taken off the fact sheet."
	case "reject":
		err = h.store.Reject(r.Context(), id, by)
		flash = "Rejected as spam or abuse."
	default:
		return apperr.New(apperr.BadRequest, "")
	}
	page, _ := strconv.Atoi(f.Get("page"))
	if apperr.Is(err, apperr.Invalid) && h.rd.Fail(r, f, err) {
		// The page holds a form per item: the field IDs carry the item's ID.
		for k, msg := range f.Errors {
			delete(f.Errors, k)
			f.Errors[fmt.Sprintf("%s-%d", k, id)] = msg
		}
		return h.renderModeration(w, r, http.StatusUnprocessableEntity, f.Get("status"), max(page, 1), f, id)
	}
	if err != nil {
		return err
	}
	target := "/admin/feedback?status=" + url.QueryEscape(f.Get("status"))
	if page > 1 {
		target += "&page=" + strconv.Itoa(page)
	}
	return h.rd.Redirect(w, r, target+"#item-"+strconv.FormatInt(id, 10), flash)
}
