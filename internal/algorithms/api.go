package algorithms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/web"
)

// maxJustification is the longest Article 6(3) justification, in characters.
const maxJustification = 5000

var errNotEditable = apperr.New(apperr.Conflict, "This revision can no longer be edited: it has been submitted or decided.")

// CreateDraft registers a new algorithm owned by its creator, with revision 1 as a draft
// holding sheet and, when not nil, the risk assessment answers: one transaction, so that
// an entry never exists without the answers it was sent with. It returns Invalid for a
// malformed sheet or answers, or a sheet not named in its original language.
func (s *Store) CreateDraft(ctx context.Context, by Actor, sheet FactSheet, answers *risk.Answers) (*Algorithm, *Revision, error) {
	var initial risk.Answers
	if answers != nil {
		if err := s.prepareAnswers(answers); err != nil {
			return nil, nil, err
		}
		initial = *answers
	}
	return s.create(ctx, by, sheet, initial, "")
}

// WorkingRevision returns an algorithm and its latest revision, whatever its state, for
// one of its owners. It returns NotFound when there is no such algorithm and, so that IDs
// reveal nothing, when userID does not own it.
func (s *Store) WorkingRevision(ctx context.Context, algID, userID string) (*Algorithm, *Revision, error) {
	alg, err := s.Algorithm(ctx, algID)
	if err != nil {
		return nil, nil, err
	}
	if !alg.IsOwner(userID) {
		return nil, nil, errNoAlgorithm
	}
	rev, err := s.Latest(ctx, alg.ID)
	if err != nil {
		return nil, nil, err
	}
	return alg, rev, nil
}

// SaveDraft replaces, in one transaction, the fact sheet and the risk assessment of an
// editable revision that must still be at version; a nil sheet or answers is left as it
// is. It returns Invalid for malformed fields (nothing is saved), NotFound unless by owns
// the entry, Conflict when the revision is no longer editable and *StaleError when someone
// saved since version.
func (s *Store) SaveDraft(ctx context.Context, revID string, version int, sheet *FactSheet, answers *risk.Answers, by Actor) (*Revision, error) {
	var fields map[string]string
	var args map[string][]any
	if sheet != nil {
		sheet.normalise()
		if err := sheet.Validate(); err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid {
				return nil, err
			}
			fields, args = e.Fields, e.FieldArgs
		}
		if err := s.canonicalDepartment(ctx, sheet); err != nil {
			return nil, err
		}
	}
	if answers != nil {
		// Both parts are checked before either error is returned, so that the client
		// hears of every bad field at once.
		if err := s.prepareAnswers(answers); err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid {
				return nil, err
			}
			fields, args = mergeFields(fields, args, e)
		}
	}
	if len(fields) > 0 {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "Please correct the errors below.", Fields: fields, FieldArgs: args}
	}
	return s.save(ctx, revID, version, by, func(rev *Revision) {
		if sheet != nil {
			rev.Sheet = *sheet
		}
		if answers != nil {
			rev.Risk = *answers
		}
	})
}

func mergeFields(fields map[string]string, args map[string][]any, e *apperr.Error) (map[string]string, map[string][]any) {
	if fields == nil {
		fields = map[string]string{}
	}
	if args == nil {
		args = map[string][]any{}
	}
	for k, v := range e.Fields {
		fields[k] = v
	}
	for k, v := range e.FieldArgs {
		args[k] = v
	}
	return fields, args
}

// prepareAnswers stamps answers with the versions of the definitions they answer and
// checks them. Unlike the form, which offers only the questions and choices there are, a
// client can send anything, so an unknown question or choice is refused (field
// "checklist.ID" or "impact.ID") rather than silently dropped.
func (s *Store) prepareAnswers(a *risk.Answers) error {
	a.ChecklistVersion = s.Risk.Checklist.Version
	a.ImpactVersion = s.Risk.Impact.Version
	if a.Checklist == nil {
		a.Checklist = map[string]bool{}
	}
	if a.Impact == nil {
		a.Impact = map[string]string{}
	}
	a.ExceptionJustification = strings.TrimSpace(strings.ReplaceAll(a.ExceptionJustification, "\r\n", "\n"))

	e := &apperr.Error{Code: apperr.Invalid, Message: "Please correct the errors below.",
		Fields: map[string]string{}, FieldArgs: map[string][]any{}}
	if utf8.RuneCountInString(a.ExceptionJustification) > maxJustification {
		e.Fields[risk.MissingJustification] = "Use at most %s characters."
		e.FieldArgs[risk.MissingJustification] = []any{fmt.Sprint(maxJustification)}
	}
	known := map[string]bool{}
	for _, q := range s.Risk.Checklist.Questions() {
		known[q.ID] = true
	}
	for id := range a.Checklist {
		if !known[id] {
			e.Fields["checklist."+id] = "This value is not valid."
		}
	}
	questions := map[string]risk.Question{}
	for _, q := range s.Risk.Impact.Questions {
		questions[q.ID] = q
	}
	for id, choice := range a.Impact {
		q, ok := questions[id]
		switch {
		case !ok:
			e.Fields["impact."+id] = "This value is not valid."
		case !hasChoice(q, choice):
			e.Fields["impact."+id] = "Choose one of the options."
		}
	}
	if len(e.Fields) > 0 {
		return e
	}
	return nil
}

func hasChoice(q risk.Question, id string) bool {
	for _, c := range q.Choices {
		if c.ID == id {
			return true
		}
	}
	return false
}

// API serves the authors' JSON API under /api/v1: a new entry, and its working revision
// to read and replace. Every route answers only the entry's owners; anyone else is told
// the entry does not exist.
type API struct {
	store *Store
	rd    *web.Renderer
}

// NewAPI returns the authors' API on store, answering errors with rd.
func NewAPI(store *Store, rd *web.Renderer) *API { return &API{store: store, rd: rd} }

// draftBody is what a client sends to create or replace a draft.
type draftBody struct {
	FactSheet      *FactSheet    `json:"fact_sheet"`
	RiskAssessment *risk.Answers `json:"risk_assessment"`
}

// read decodes the body; the fact sheet is required, the risk assessment optional.
func (b *draftBody) read(r *http.Request) error {
	if err := web.DecodeJSON(r, b); err != nil {
		return err
	}
	if b.FactSheet == nil {
		return apperr.InvalidFields("Please correct the errors below.", map[string]string{"fact_sheet": "Fill in this field."})
	}
	return nil
}

// DraftRecord is the working revision as the API shows it to its owners.
type DraftRecord struct {
	ID             string         `json:"id"`
	Slug           string         `json:"slug"`
	Revision       int            `json:"revision"`
	State          string         `json:"state"`
	Editable       bool           `json:"editable"`
	Version        int            `json:"version"`
	ETag           string         `json:"etag"`
	FactSheet      FactSheet      `json:"fact_sheet"`
	RiskAssessment risk.Answers   `json:"risk_assessment"`
	Risk           DraftRisk      `json:"risk"`
	Missing        []DraftMissing `json:"missing"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

// DraftRisk is what the risk assessment gives so far. The tier and level are null until
// every question is answered against the current definitions; the route is the strictest
// one the answers given so far require.
type DraftRisk struct {
	Category         *string    `json:"risk_category"`
	ImpactLevel      *string    `json:"impact_level"`
	Route            risk.Route `json:"route"`
	ExceptionClaimed bool       `json:"exception_claimed"`
}

// DraftMissing is one thing a submission still needs, its message in the request's language.
type DraftMissing struct {
	Field   string `json:"field"`
	Section string `json:"section"`
	Message string `json:"message"`
}

func (a *API) record(r *http.Request, alg *Algorithm, rev *Revision) (DraftRecord, error) {
	res := rev.Assessment
	d := DraftRecord{ID: alg.ID, Slug: alg.Slug, Revision: rev.Number, State: rev.State, Editable: rev.Editable(),
		Version: rev.Version, ETag: draftETag(rev), FactSheet: rev.Sheet, RiskAssessment: rev.Risk,
		Risk:    DraftRisk{Route: res.Route, ExceptionClaimed: res.ExceptionClaimed},
		Missing: []DraftMissing{}, UpdatedAt: rev.UpdatedAt.UTC()}
	if d.RiskAssessment.Checklist == nil {
		d.RiskAssessment.Checklist = map[string]bool{}
	}
	if d.RiskAssessment.Impact == nil {
		d.RiskAssessment.Impact = map[string]string{}
	}
	if len(res.Missing) == 0 && !res.VersionMismatch {
		tier, level := res.Tier, res.LevelName()
		d.Risk.Category, d.Risk.ImpactLevel = &tier, &level
	}
	missing, err := a.store.Problems(r.Context(), rev)
	if err != nil {
		return d, err
	}
	for _, p := range missing {
		d.Missing = append(d.Missing, DraftMissing{Field: p.Field, Section: p.Section, Message: a.rd.T(r, p.Message, p.Args...)})
	}
	return d, nil
}

// writeDraft answers with the record and its entity tag. The draft is private and changes,
// so caches may keep it only to revalidate it.
func (a *API) writeDraft(w http.ResponseWriter, r *http.Request, status int, alg *Algorithm, rev *Revision) error {
	record, err := a.record(r, alg, rev)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", draftETag(rev))
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("Vary", "Accept-Language")
	web.WriteJSON(w, status, record)
	return nil
}

// Create registers a new entry from the fact sheet (and risk assessment) sent, answering
// 201 with the draft and its address.
func (a *API) Create(w http.ResponseWriter, r *http.Request) error {
	var body draftBody
	if err := body.read(r); err != nil {
		return err
	}
	alg, rev, err := a.store.CreateDraft(r.Context(), ActorOf(r), *body.FactSheet, body.RiskAssessment)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/algorithms/"+alg.ID+"/draft")
	return a.writeDraft(w, r, http.StatusCreated, alg, rev)
}

// Draft answers with the entry's working revision, or 304 when the client's copy (named
// in If-None-Match) is current.
func (a *API) Draft(w http.ResponseWriter, r *http.Request) error {
	alg, rev, err := a.store.WorkingRevision(r.Context(), chi.URLParam(r, "id"), web.ViewerFrom(r.Context()).ID)
	if err != nil {
		return err
	}
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 && etagListed(inm, draftETag(rev), true) {
		w.Header().Set("ETag", draftETag(rev))
		w.Header().Set("Cache-Control", "private, no-cache")
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return a.writeDraft(w, r, http.StatusOK, alg, rev)
}

// UpdateDraft replaces the working revision's fact sheet, and its risk assessment when one
// is sent. The client names the version it changes in If-Match: 428 without it, 412 (with
// the current ETag) when someone saved since, 409 once the revision is submitted.
func (a *API) UpdateDraft(w http.ResponseWriter, r *http.Request) error {
	by := ActorOf(r)
	alg, rev, err := a.store.WorkingRevision(r.Context(), chi.URLParam(r, "id"), by.UserID)
	if err != nil {
		return err
	}
	// The preconditions are checked before the body is read (RFC 9110 §13.2.2), so that a
	// client with a stale copy learns that first, not after fixing its input.
	ifMatch := r.Header.Values("If-Match")
	if strings.TrimSpace(strings.Join(ifMatch, "")) == "" {
		return apperr.New(apperr.PreconditionRequired, "")
	}
	if !rev.Editable() {
		return errNotEditable
	}
	if !etagListed(ifMatch, draftETag(rev), false) {
		w.Header().Set("ETag", draftETag(rev))
		return &StaleError{Current: rev}
	}
	var body draftBody
	if err := body.read(r); err != nil {
		return err
	}
	// The store checks the version again under a lock: a save between the read above and
	// this one is still refused.
	saved, err := a.store.SaveDraft(r.Context(), rev.ID, rev.Version, body.FactSheet, body.RiskAssessment, by)
	if err != nil {
		var stale *StaleError
		if errors.As(err, &stale) {
			w.Header().Set("ETag", draftETag(stale.Current))
		}
		return err
	}
	return a.writeDraft(w, r, http.StatusOK, alg, saved)
}

// draftETag is the entity tag of the draft record: the revision's ETag with its state. A
// change of state (submission, a decision) does not count as a save, so the version alone
// would let a client's If-None-Match keep showing an editable draft after it was
// submitted, and its If-Match overwrite a revision sent back with changes requested
// without reading the request first.
func draftETag(rev *Revision) string {
	return strings.TrimSuffix(rev.ETag(), `"`) + "." + rev.State + `"`
}

// etagListed reports whether the If-Match or If-None-Match header values name etag or are
// "*". If-Match compares strongly (a weak tag never matches); If-None-Match weakly.
func etagListed(values []string, etag string, weak bool) bool {
	for _, v := range values {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				return true
			}
			if after, ok := strings.CutPrefix(tag, "W/"); ok {
				if !weak {
					continue
				}
				tag = after
			}
			if tag == etag {
				return true
			}
		}
	}
	return false
}
