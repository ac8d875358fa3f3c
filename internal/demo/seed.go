package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/review"
)

// Staff are the demo accounts the seeder acts as.
type Staff struct {
	Authors  map[string]algorithms.Actor // by e-mail
	Reviewer review.Actor
	Expert   review.Actor
}

// Seed drives every demo entry through the ordinary workflow (create, fill, assess, submit,
// review), so that the demo shows real histories, decisions and audit events.
func Seed(ctx context.Context, store *algorithms.Store, wf *review.Service, staff Staff) (int, error) {
	entries, err := Entries()
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		if err := seedEntry(ctx, store, wf, staff, e); err != nil {
			return 0, fmt.Errorf("demo %s: %w", e.Slug, err)
		}
	}
	return len(entries), nil
}

func seedEntry(ctx context.Context, store *algorithms.Store, wf *review.Service, staff Staff, e Entry) error {
	author, ok := staff.Authors[e.Owner]
	if !ok {
		return fmt.Errorf("no demo account %s", e.Owner)
	}
	sheets, err := e.Revisions()
	if err != nil {
		return err
	}
	var answers risk.Answers
	if err := json.Unmarshal(e.Risk, &answers); err != nil {
		return err
	}
	var alg *algorithms.Algorithm
	for i, raw := range sheets {
		var sheet algorithms.FactSheet
		if err := json.Unmarshal(raw, &sheet); err != nil {
			return err
		}
		var rev *algorithms.Revision
		if i == 0 {
			if alg, rev, err = store.CreateWithSlug(ctx, author, sheet, e.Slug); err != nil {
				return err
			}
		} else if rev, err = store.NewRevision(ctx, alg.ID, author); err != nil {
			return err
		}
		if rev, err = store.SaveSheet(ctx, rev.ID, rev.Version, sheet, author); err != nil {
			return err
		}
		if rev, err = store.SaveRisk(ctx, rev.ID, rev.Version, answers, author); err != nil {
			return err
		}
		last := i == len(sheets)-1
		state := StatePublished
		if last {
			state = e.State
		}
		if err := drive(ctx, wf, staff, rev, state, e.Conditions, author); err != nil {
			return err
		}
	}
	return nil
}

// drive takes a saved draft to the state the demo wants: submitted, then decided by the
// committee as its route requires (the reviewer first, the external expert second).
func drive(ctx context.Context, wf *review.Service, staff Staff, rev *algorithms.Revision, state, conditions string, author algorithms.Actor) error {
	if state == StateDraft {
		return nil
	}
	by := review.Actor{UserID: author.UserID, Email: author.Email}
	if err := wf.Submit(ctx, rev.ID, by); err != nil {
		return err
	}
	approve := func(reviewer review.Actor, conds string) error {
		_, err := wf.Decide(ctx, rev.ID, review.Decision{Action: review.Approve, Conditions: conds,
			Rationale:       "The fact sheet is complete and the safeguards match the risk.",
			AcceptException: rev.Assessment.ExceptionClaimed}, reviewer)
		return err
	}
	switch state {
	case StateChangesRequested:
		_, err := wf.Decide(ctx, rev.ID, review.Decision{Action: review.RequestChanges,
			Rationale: "Complete the fundamental rights impact assessment and explain how people are told about their result."}, staff.Reviewer)
		return err
	case StateInReview:
		if err := wf.Claim(ctx, rev.ID, staff.Reviewer); err != nil {
			return err
		}
		if rev.Route().Approvals > 1 {
			return approve(staff.Reviewer, "")
		}
		return wf.AddComment(ctx, rev.ID, "data", "Which years of payment history does the model use, and how often is it retrained?", staff.Reviewer)
	}
	// Published or retired: approve as the route needs, conditions with the last approval.
	if rev.Route().Approvals > 1 {
		if err := approve(staff.Reviewer, ""); err != nil {
			return err
		}
		return approve(staff.Expert, conditions)
	}
	return approve(staff.Reviewer, conditions)
}
