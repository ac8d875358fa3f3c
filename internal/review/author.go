package review

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/web"
)

// latestRevision returns the ID of the newest revision of the entry named in the address.
func (h *Handlers) latestRevision(r *http.Request) (string, error) {
	rev, err := h.svc.store.Latest(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return "", err
	}
	return rev.ID, nil
}

// SubmitPost sends the entry's working revision to the committee. Ownership is checked by
// the workflow: someone else's entry is refused.
func (h *Handlers) SubmitPost(w http.ResponseWriter, r *http.Request) error {
	revID, err := h.latestRevision(r)
	if err != nil {
		return err
	}
	base := "/workspace/" + chi.URLParam(r, "id")
	var missing *MissingError
	switch err := h.svc.Submit(r.Context(), revID, ActorOf(r)); {
	case errors.As(err, &missing):
		return h.rd.Redirect(w, r, base+"#missing", "This revision is not complete yet.")
	case err != nil:
		return err
	}
	return h.rd.Redirect(w, r, base, "Submitted. The ethics committee has been told.")
}

// WithdrawPost takes the working revision back before a decision.
func (h *Handlers) WithdrawPost(w http.ResponseWriter, r *http.Request) error {
	revID, err := h.latestRevision(r)
	if err != nil {
		return err
	}
	if err := h.svc.Withdraw(r.Context(), revID, ActorOf(r)); err != nil {
		return err
	}
	return h.rd.Redirect(w, r, "/workspace/"+chi.URLParam(r, "id"), "Withdrawn.")
}

// Feedback returns the review history of a revision for its authors' overview.
func (h *Handlers) Feedback(r *http.Request, revID string) (any, error) {
	return h.svc.Detail(r.Context(), revID)
}

// ReassignPost gives a waiting revision to another reviewer (administrators).
func (h *Handlers) ReassignPost(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	if err := h.svc.Reassign(r.Context(), chi.URLParam(r, "revision"), f.Get("reviewer"), ActorOf(r)); err != nil {
		return err
	}
	return h.rd.Redirect(w, r, "/admin/entries", "Reassigned.")
}

// UnpublishPost takes an entry off the public register with a public reason (administrators).
func (h *Handlers) UnpublishPost(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	if err := h.svc.Unpublish(r.Context(), chi.URLParam(r, "id"), f.Get("reason"), ActorOf(r)); err != nil {
		return err
	}
	return h.rd.Redirect(w, r, "/admin/entries", "Unpublished. A public notice with the reason replaces the fact sheet.")
}

// AuthorCommentPost lets an owner answer the committee on the working revision.
func (h *Handlers) AuthorCommentPost(w http.ResponseWriter, r *http.Request) error {
	revID, err := h.latestRevision(r)
	if err != nil {
		return err
	}
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	if err := h.svc.AddComment(r.Context(), revID, "", f.Get("body"), ActorOf(r)); err != nil {
		return err
	}
	return h.rd.Redirect(w, r, "/workspace/"+chi.URLParam(r, "id")+"#feedback", "Comment added.")
}

type adminEntriesData struct {
	Entries []algorithms.Entry
	Waiting []QueueItem
	Form    *web.Form
}

// AdminEntries lists every entry for the data office, with emergency unpublishing and the
// reassignment of waiting reviews.
func (h *Handlers) AdminEntries(w http.ResponseWriter, r *http.Request) error {
	entries, err := h.svc.store.All(r.Context())
	if err != nil {
		return err
	}
	waiting, err := h.svc.Queue(r.Context(), "", QueueFilter{})
	if err != nil {
		return err
	}
	return h.rd.Render(w, r, http.StatusOK, "admin/entries", web.Page{Title: h.rd.T(r, "Entries"),
		Data: adminEntriesData{Entries: entries, Waiting: waiting, Form: web.NewForm(nil)}})
}
