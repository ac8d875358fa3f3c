package review

import (
	"testing"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/apperr"
)

// TestCheckEveryStateActionActor walks every (state, action, actor) triple against a table
// written from the product rules, independently of Check's code.
func TestCheckEveryStateActionActor(t *testing.T) {
	actors := map[string]Relation{
		"owner":             {Owner: true},
		"owner who reviews": {Owner: true, Reviewer: true},
		"editor reviewer":   {Editor: true, Reviewer: true},
		"reviewer":          {Reviewer: true},
		"expert":            {Expert: true},
		"stranger":          {},
	}
	// allowed[action] lists "state/actor" pairs that may act; everything else is refused.
	allowed := map[Action][]string{
		Submit:   {"draft/owner", "draft/owner who reviews", "changes_requested/owner", "changes_requested/owner who reviews"},
		Withdraw: {},
		Comment:  {},
	}
	for _, s := range []string{"draft", "submitted", "in_review", "changes_requested"} {
		allowed[Withdraw] = append(allowed[Withdraw], s+"/owner", s+"/owner who reviews")
	}
	for _, s := range []string{"submitted", "in_review", "changes_requested"} {
		allowed[Comment] = append(allowed[Comment], s+"/owner", s+"/owner who reviews", s+"/reviewer", s+"/expert")
	}
	for _, a := range []Action{Claim, Release, Approve, RequestChanges, Reject} {
		for _, s := range []string{"submitted", "in_review"} {
			allowed[a] = append(allowed[a], s+"/reviewer", s+"/expert")
		}
	}
	for _, state := range algorithms.States {
		for _, action := range Actions {
			for name, rel := range actors {
				key := state + "/" + name
				want := false
				for _, k := range allowed[action] {
					want = want || k == key
				}
				err := Check(action, state, rel)
				if (err == nil) != want {
					t.Errorf("%s by %s in %s: err = %v, want allowed = %v", action, name, state, err, want)
				}
				if err != nil && !apperr.Is(err, apperr.Forbidden) && !apperr.Is(err, apperr.Conflict) {
					t.Errorf("%s by %s in %s: refusal %v is neither 403 nor 409", action, name, state, err)
				}
			}
		}
	}
}

func TestConflictOfInterestIsNamed(t *testing.T) {
	for _, rel := range []Relation{{Owner: true, Reviewer: true}, {Editor: true, Expert: true}} {
		for _, a := range Decisions {
			if err := Check(a, algorithms.StateInReview, rel); err != ErrConflictOfInterest {
				t.Errorf("%s with %+v: %v, want the conflict-of-interest error", a, rel, err)
			}
		}
	}
}
