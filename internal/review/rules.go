// Package review is the ethics review workflow: submission, the committee's queue, claims,
// comments and decisions scaled to risk, publication, withdrawal, retirement and emergency
// unpublishing, with an audit event and notifications for every transition.
package review

import (
	"slices"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/apperr"
)

// Action is a step of the workflow.
type Action string

// The actions.
const (
	Submit         Action = "submit"
	Withdraw       Action = "withdraw"
	Claim          Action = "claim"
	Release        Action = "release"
	Comment        Action = "comment"
	Approve        Action = "approve"
	RequestChanges Action = "request_changes"
	Reject         Action = "reject"
)

// Actions lists every action, for tests and forms.
var Actions = []Action{Submit, Withdraw, Claim, Release, Comment, Approve, RequestChanges, Reject}

// Decisions are the actions that decide a round.
var Decisions = []Action{Approve, RequestChanges, Reject}

// Relation is how the person acting stands to a revision.
type Relation struct {
	Owner    bool // owns or co-owns the entry
	Editor   bool // saved this revision
	Reviewer bool // holds the reviewer role
	Expert   bool // holds the expert role (an external expert of the committee)
}

// Conflicted reports a conflict of interest: nobody reviews what they own or edited.
func (r Relation) Conflicted() bool { return r.Owner || r.Editor }

var (
	authorStates  = map[Action][]string{Submit: {algorithms.StateDraft, algorithms.StateChangesRequested}, Withdraw: {algorithms.StateDraft, algorithms.StateSubmitted, algorithms.StateInReview, algorithms.StateChangesRequested}}
	waitingStates = []string{algorithms.StateSubmitted, algorithms.StateInReview}
	commentStates = []string{algorithms.StateSubmitted, algorithms.StateInReview, algorithms.StateChangesRequested}
)

// ErrConflictOfInterest refuses a review by someone who owns or edited the revision.
var ErrConflictOfInterest = apperr.New(apperr.Forbidden, "Conflict of interest: you own or edited this entry, so you cannot review it.")

// Check says whether someone standing in rel to a revision in state may take action: nil,
// Forbidden (wrong person, or a conflict of interest) or Conflict (not possible in this
// state). It decides nothing else; the service also checks counts and fields.
func Check(action Action, state string, rel Relation) error {
	switch action {
	case Submit, Withdraw:
		if !rel.Owner {
			return apperr.New(apperr.Forbidden, "Only the entry's owners can do that.")
		}
		return inState(state, authorStates[action])
	case Comment:
		if !rel.Owner && !rel.Reviewer && !rel.Expert {
			return apperr.New(apperr.Forbidden, "")
		}
		if !rel.Owner && rel.Conflicted() {
			return ErrConflictOfInterest
		}
		return inState(state, commentStates)
	case Claim, Release, Approve, RequestChanges, Reject:
		if !rel.Reviewer && !rel.Expert {
			return apperr.New(apperr.Forbidden, "Only members of the ethics committee can review.")
		}
		if rel.Conflicted() {
			return ErrConflictOfInterest
		}
		return inState(state, waitingStates)
	}
	return apperr.New(apperr.BadRequest, "Unknown action.")
}

func inState(state string, allowed []string) error {
	if slices.Contains(allowed, state) {
		return nil
	}
	return apperr.New(apperr.Conflict, "That is not possible in the revision's current state.")
}
