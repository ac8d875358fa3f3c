package review

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/diff"
	"github.com/civictech/registry/internal/publish"
	"github.com/civictech/registry/internal/web"
)

// Handlers serve the committee's pages and the authors' submission buttons.
type Handlers struct {
	svc *Service
	rd  *web.Renderer
	doc func(r *http.Request, rev *algorithms.Revision) *publish.Document
}

// NewHandlers returns the review handlers; doc composes a revision's fact sheet in the
// request's language.
func NewHandlers(svc *Service, rd *web.Renderer, doc func(*http.Request, *algorithms.Revision) *publish.Document) *Handlers {
	return &Handlers{svc: svc, rd: rd, doc: doc}
}

// ActorOf describes the request's viewer.
func ActorOf(r *http.Request) Actor {
	a := Actor{ClientIP: web.ClientIP(r), ReqID: web.RequestIDOf(r)}
	if v := web.ViewerFrom(r.Context()); v != nil {
		a.UserID, a.Email, a.Roles = v.ID, v.Email, v.Roles
	}
	return a
}

type queueData struct {
	Items  []QueueItem
	Filter QueueFilter
	Tiers  []string
}

func filterFrom(r *http.Request) QueueFilter {
	q := r.URL.Query()
	level, _ := strconv.Atoi(q.Get("level"))
	return QueueFilter{Tier: q.Get("risk"), Level: level, Department: q.Get("department"), Claim: q.Get("claim"), Sort: q.Get("sort")}
}

// QueuePage lists waiting revisions.
func (h *Handlers) QueuePage(w http.ResponseWriter, r *http.Request) error {
	f := filterFrom(r)
	items, err := h.svc.Queue(r.Context(), web.ViewerFrom(r.Context()).ID, f)
	if err != nil {
		return err
	}
	return h.rd.Render(w, r, http.StatusOK, "review/index", web.Page{Title: h.rd.T(r, "Review queue"),
		Data: queueData{Items: items, Filter: f, Tiers: []string{"minimal risk", "limited risk", "high risk"}}})
}

type reviewData struct {
	Detail     *Detail
	Doc        *publish.Document
	Slug       string
	Relation   Relation
	SinceLive  []changeView
	LiveNumber int
	SinceRound []changeView
	Form       *web.Form
	Sections   []string
	Titles     map[string]string
	CanDecide  bool
	HasDecided bool
}

// Page shows one revision to review: the fact sheet as it would be published, what changed
// since the live version and since the previous round, the comments and the decision form.
func (h *Handlers) Page(w http.ResponseWriter, r *http.Request) error {
	return h.renderPage(w, r, http.StatusOK, web.NewForm(nil))
}

func (h *Handlers) renderPage(w http.ResponseWriter, r *http.Request, status int, f *web.Form) error {
	ctx := r.Context()
	d, err := h.svc.Detail(ctx, chi.URLParam(r, "revision"))
	if err != nil {
		return err
	}
	rev := d.Revision
	if rev.State == algorithms.StateDraft {
		return apperr.New(apperr.NotFound, "")
	}
	alg, err := h.svc.store.Algorithm(ctx, rev.AlgorithmID)
	if err != nil {
		return err
	}
	v := web.ViewerFrom(ctx)
	rel := ActorOf(r).relation(&algorithms.Locked{Revision: rev, Owners: ownerIDs(alg), Editors: nil})
	// Changes are compared in the entry's original language: that is what the authors
	// edit, and a change there must not hide behind an unchanged translation.
	lang := rev.Sheet.Lang
	label := func(key string) string { return h.rd.T(r, key) }
	data := reviewData{Detail: d, Doc: h.doc(r, rev), Slug: alg.Slug, Relation: rel, Form: f,
		Sections: algorithms.Sections, Titles: algorithms.SectionTitles}
	if live, err := h.svc.store.LatestPublished(ctx, rev.AlgorithmID); err == nil && live.ID != rev.ID {
		data.SinceLive, data.LiveNumber = changeViews(diff.FactSheets(&live.Sheet, &rev.Sheet, lang, label)), live.Number
	}
	if prev := d.PreviousRound(); prev != nil {
		data.SinceRound = changeViews(diff.FactSheets(&prev.Sheet, &rev.Sheet, lang, label))
	}
	editors, err := h.svc.store.Editors(ctx, rev.ID)
	if err != nil {
		return err
	}
	data.Relation.Editor = contains(editors, v.ID)
	data.CanDecide = Check(Approve, rev.State, data.Relation) == nil
	for _, dv := range d.Decisions {
		if cur := d.CurrentRound(); cur != nil && dv.Round == cur.Number && dv.ReviewerID == v.ID {
			data.HasDecided = true
		}
	}
	return h.rd.Render(w, r, status, "review/revision", web.Page{Title: data.Doc.Title, Data: data})
}

func ownerIDs(a *algorithms.Algorithm) []string {
	var ids []string
	for _, o := range a.Owners {
		ids = append(ids, o.ID)
	}
	return ids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (h *Handlers) revisionURL(r *http.Request) string {
	return "/review/" + chi.URLParam(r, "revision")
}

// ClaimPost claims or releases a revision.
func (h *Handlers) ClaimPost(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	id := chi.URLParam(r, "revision")
	if f.Get("action") == "release" {
		err = h.svc.Release(r.Context(), id, ActorOf(r))
	} else {
		err = h.svc.Claim(r.Context(), id, ActorOf(r))
	}
	if err != nil {
		return err
	}
	return h.rd.Redirect(w, r, h.revisionURL(r), "Saved.")
}

// CommentPost adds a comment.
func (h *Handlers) CommentPost(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	if err := h.svc.AddComment(r.Context(), chi.URLParam(r, "revision"), f.Get("section"), f.Get("body"), ActorOf(r)); err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		return h.renderPage(w, r, http.StatusUnprocessableEntity, f)
	}
	return h.rd.Redirect(w, r, h.revisionURL(r)+"#comments", "Comment added.")
}

// DecisionPost records a decision.
func (h *Handlers) DecisionPost(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	out, err := h.svc.Decide(r.Context(), chi.URLParam(r, "revision"), Decision{Action: Action(f.Get("decision")),
		Rationale: f.Get("rationale"), Conditions: f.Get("conditions"), AcceptException: f.Get("accept_exception") != ""}, ActorOf(r))
	if err != nil {
		if !h.rd.Fail(r, f, err) || apperr.Is(err, apperr.Conflict) {
			return err
		}
		return h.renderPage(w, r, http.StatusUnprocessableEntity, f)
	}
	flash := map[string]string{
		algorithms.StatePublished:        "Approved. The revision is now published.",
		algorithms.StateInReview:         "Approved. More approvals are needed before publication.",
		algorithms.StateChangesRequested: "Changes requested. The authors have been told.",
		algorithms.StateRejected:         "Rejected. The authors have been told.",
	}[out.State]
	return h.rd.Redirect(w, r, "/review", flash)
}

// changeView is one changed field, its word-level diff rendered.
type changeView struct {
	Label string
	HTML  template.HTML
}

func changeViews(changes []diff.FieldChange) []changeView {
	out := make([]changeView, len(changes))
	for i, c := range changes {
		out[i] = changeView{Label: c.Label, HTML: diff.HTML(c.Ops)}
	}
	return out
}
