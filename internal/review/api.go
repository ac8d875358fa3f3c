package review

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/web"
)

// API serves the workflow as JSON under /api/v1: the committee's queue and decisions, and
// the authors' submission. The routes check roles; the workflow checks everything else
// (ownership, conflicts of interest, states) on every call.
type API struct {
	svc *Service
	rd  *web.Renderer
}

// NewAPI returns the workflow's JSON API on svc, answering errors with rd.
func NewAPI(svc *Service, rd *web.Renderer) *API { return &API{svc: svc, rd: rd} }

// QueueEntry is a waiting revision as the API lists it.
type QueueEntry struct {
	RevisionID         string          `json:"revision_id"`
	AlgorithmID        string          `json:"algorithm_id"`
	Slug               string          `json:"slug"`
	Name               algorithms.Text `json:"name"`
	Lang               string          `json:"lang"`
	Revision           int             `json:"revision"`
	State              string          `json:"state"`
	SubmittedAt        time.Time       `json:"submitted_at"`
	WaitedSeconds      int64           `json:"waited_seconds"`
	RiskCategory       string          `json:"risk_category"`
	ImpactLevel        string          `json:"impact_level"`
	Department         algorithms.Text `json:"department"`
	Approvals          int             `json:"approvals"`
	ApprovalsNeeded    int             `json:"approvals_needed"`
	ExpertRequired     bool            `json:"expert_required"`
	ExpertApproved     bool            `json:"expert_approved"`
	ClaimedBy          *string         `json:"claimed_by"` // the reviewer's name; null when unclaimed
	ClaimedByMe        bool            `json:"claimed_by_me"`
	ConflictOfInterest bool            `json:"conflict_of_interest"`
	// URL is the review page; DecisionURL takes the decision through the API.
	URL         string `json:"url"`
	DecisionURL string `json:"decision_url"`
}

// QueueList is the queue's answer.
type QueueList struct {
	Items []QueueEntry `json:"items"`
}

// Queue lists the revisions waiting for the committee, with the HTML queue's filters:
// risk, level (1–4), department, claim (mine, unclaimed) and sort (oldest, newest).
func (a *API) Queue(w http.ResponseWriter, r *http.Request) error {
	f, err := apiQueueFilter(r)
	if err != nil {
		return err
	}
	items, err := a.svc.Queue(r.Context(), web.ViewerFrom(r.Context()).ID, f)
	if err != nil {
		return err
	}
	out := QueueList{Items: make([]QueueEntry, 0, len(items))}
	for _, it := range items {
		e := QueueEntry{RevisionID: it.RevisionID, AlgorithmID: it.AlgorithmID, Slug: it.Slug, Name: it.Name,
			Lang: it.Lang, Revision: it.Number, State: it.State, SubmittedAt: it.SubmittedAt.UTC(),
			WaitedSeconds: int64(it.Waited.Seconds()), RiskCategory: it.RiskTier,
			ImpactLevel: risk.Result{Level: it.Level}.LevelName(), Department: it.Department,
			Approvals: it.Approvals, ApprovalsNeeded: max(it.Route.Approvals, 1), ExpertRequired: it.Route.ExpertRequired,
			ExpertApproved: it.ExpertDone, ClaimedByMe: it.ClaimedByMe, ConflictOfInterest: it.Conflict,
			URL: "/review/" + it.RevisionID, DecisionURL: "/api/v1/review/" + it.RevisionID + "/decision"}
		if it.ClaimedBy != "" {
			name := it.ClaimedBy
			e.ClaimedBy = &name
		}
		out.Items = append(out.Items, e)
	}
	// The queue is for the committee only and changes with every step.
	w.Header().Set("Cache-Control", "private, no-store")
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}

// apiQueueFilter reads the queue's filters, refusing values the queue does not know (a
// program that misspells one should hear so, not get an unfiltered queue).
func apiQueueFilter(r *http.Request) (QueueFilter, error) {
	f := filterFrom(r)
	q := r.URL.Query()
	fields := map[string]string{}
	if f.Tier != "" && !slices.Contains(algorithms.RiskCategories, f.Tier) {
		fields["risk"] = "Choose one of the options."
	}
	if v := q.Get("level"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 4 {
			fields["level"] = "Choose one of the options."
		}
	}
	if f.Claim != "" && f.Claim != "mine" && f.Claim != "unclaimed" {
		fields["claim"] = "Choose one of the options."
	}
	if f.Sort != "" && f.Sort != "oldest" && f.Sort != "newest" {
		fields["sort"] = "Choose one of the options."
	}
	if len(fields) > 0 {
		return f, apperr.InvalidFields("Please correct the errors below.", fields)
	}
	return f, nil
}

// decisionBody is a decision as a client sends it. The comment is the rationale the
// authors read; conditions, for an approval, are published with the fact sheet.
type decisionBody struct {
	Decision        string `json:"decision"`
	Comment         string `json:"comment"`
	Conditions      string `json:"conditions"`
	AcceptException bool   `json:"accept_exception"`
}

// DecisionResult is the state a decision left the revision in.
type DecisionResult struct {
	RevisionID      string `json:"revision_id"`
	State           string `json:"state"`
	Approvals       int    `json:"approvals"`
	ApprovalsNeeded int    `json:"approvals_needed"`
}

// Decide records the viewer's decision on a waiting revision: 422 for a missing comment or
// an unknown decision, 403 for a conflict of interest, 409 when the revision is not
// waiting or the viewer already decided this round, 404 for an unknown revision.
func (a *API) Decide(w http.ResponseWriter, r *http.Request) error {
	var body decisionBody
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	revID := chi.URLParam(r, "revision")
	out, err := a.svc.Decide(r.Context(), revID, Decision{Action: Action(body.Decision), Rationale: body.Comment,
		Conditions: body.Conditions, AcceptException: body.AcceptException}, ActorOf(r))
	if err != nil {
		return renameField(err, "rationale", "comment")
	}
	web.WriteJSON(w, http.StatusOK, DecisionResult{RevisionID: revID, State: out.State, Approvals: out.Approvals,
		ApprovalsNeeded: out.Needed})
	return nil
}

// renameField returns err with its field from renamed to, as the API calls it.
func renameField(err error, from, to string) error {
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid {
		return err
	}
	msg, ok := e.Fields[from]
	if !ok {
		return err
	}
	c := *e
	c.Fields = maps.Clone(e.Fields)
	delete(c.Fields, from)
	c.Fields[to] = msg
	if args, ok := e.FieldArgs[from]; ok {
		c.FieldArgs = maps.Clone(e.FieldArgs)
		delete(c.FieldArgs, from)
		c.FieldArgs[to] = args
	}
	return &c
}

// SubmitResult is the working revision after its submission.
type SubmitResult struct {
	ID              string     `json:"id"`
	Slug            string     `json:"slug"`
	RevisionID      string     `json:"revision_id"`
	Revision        int        `json:"revision"`
	State           string     `json:"state"`
	Route           risk.Route `json:"route"`
	ApprovalsNeeded int        `json:"approvals_needed"`
}

// Submit sends the entry's working revision to the committee, for one of its owners:
// 422 listing in fields every missing field with its message, 404 when the entry is
// unknown or not the viewer's, 409 when the revision is not a draft or sent back.
func (a *API) Submit(w http.ResponseWriter, r *http.Request) error {
	by := ActorOf(r)
	alg, rev, err := a.svc.store.WorkingRevision(r.Context(), chi.URLParam(r, "id"), by.UserID)
	if err != nil {
		return err
	}
	if err := a.svc.Submit(r.Context(), rev.ID, by); err != nil {
		return err
	}
	if rev, err = a.svc.store.Revision(r.Context(), rev.ID); err != nil {
		return err
	}
	route := rev.Route()
	w.Header().Set("Cache-Control", "no-store")
	web.WriteJSON(w, http.StatusOK, SubmitResult{ID: alg.ID, Slug: alg.Slug, RevisionID: rev.ID, Revision: rev.Number,
		State: rev.State, Route: route, ApprovalsNeeded: route.Approvals})
	return nil
}
