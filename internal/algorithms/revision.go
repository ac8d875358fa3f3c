package algorithms

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apperr"
)

// Revision states. A revision is edited only in draft and changes_requested; published ones
// never change.
const (
	StateDraft            = "draft"
	StateSubmitted        = "submitted"
	StateInReview         = "in_review"
	StateChangesRequested = "changes_requested"
	StateApproved         = "approved"
	StatePublished        = "published"
	StateRejected         = "rejected"
	StateWithdrawn        = "withdrawn"
)

// States lists every state in workflow order.
var States = []string{StateDraft, StateSubmitted, StateInReview, StateChangesRequested, StateApproved,
	StatePublished, StateRejected, StateWithdrawn}

// Algorithm is a register entry: a stable ID, a permanent slug and its owners.
type Algorithm struct {
	ID        string
	Slug      string
	CreatedAt time.Time
	Owners    []Owner
	// UnpublishedAt is set when an administrator took the entry off the register; the
	// public then sees a tombstone with UnpublishReason.
	UnpublishedAt   *time.Time
	UnpublishReason string
}

// Owner is an author who may edit an entry.
type Owner struct {
	ID, Name, Email string
}

// IsOwner reports whether userID owns a.
func (a *Algorithm) IsOwner(userID string) bool {
	for _, o := range a.Owners {
		if o.ID == userID {
			return true
		}
	}
	return false
}

// Revision is one numbered version of an entry's fact sheet and risk assessment.
type Revision struct {
	ID          string
	AlgorithmID string
	Number      int
	State       string
	// Version counts saves; an edit must name the version it started from.
	Version    int
	Sheet      FactSheet
	Risk       risk.Answers
	Assessment risk.Result // computed from Risk when loaded
	CreatedAt  time.Time
	UpdatedAt  time.Time
	UpdatedBy  string // name of the last editor
}

// Editable reports whether the revision may still be changed by its authors.
func (r *Revision) Editable() bool {
	return r.State == StateDraft || r.State == StateChangesRequested
}

// ETag is the entity tag of this version of the revision, for If-Match.
func (r *Revision) ETag() string { return fmt.Sprintf(`"%s.%d"`, r.ID, r.Version) }

// Missing lists what a submission still needs: fact-sheet fields, then the risk assessment.
func (r *Revision) Missing() []Problem {
	out := r.Sheet.Missing()
	if len(r.Assessment.Missing) > 0 || r.Assessment.VersionMismatch {
		out = append(out, Problem{Field: "risk_assessment", Section: "assessment",
			Message: "Answer every question of the risk assessment."}) // i18n
	}
	if r.Assessment.Tier == risk.Unacceptable {
		out = append(out, Problem{Field: "risk_assessment", Section: "assessment",
			Message: "A prohibited practice under Article 5 of the EU AI Act cannot be registered for use."}) // i18n
	}
	return out
}

// Problems lists what a submission of rev still needs: what Missing finds, and a department
// that is not on the data office's list (Departments).
func (s *Store) Problems(ctx context.Context, rev *Revision) ([]Problem, error) {
	out := rev.Missing()
	name := rev.Sheet.Department[rev.Sheet.Lang]
	if s.Departments == nil || strings.TrimSpace(name) == "" {
		return out, nil // an empty department is already missing
	}
	_, acceptable, err := s.Departments.Lookup(ctx, rev.Sheet.Lang, name)
	if err != nil {
		return nil, err
	}
	if !acceptable {
		out = append(out, Problem{Field: "department", Section: "basic",
			Message: "Choose one of the council's departments: the data office keeps the list."}) // i18n
	}
	return out, nil
}

// StaleError is returned when an edit names a version older than the stored one. It carries
// the stored revision, so that the author can see the other person's change.
type StaleError struct {
	Current *Revision
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("revision %s is at version %d", e.Current.ID, e.Current.Version)
}

// Unwrap makes a StaleError a 412 wherever it is not handled specially.
func (e *StaleError) Unwrap() error {
	return apperr.New(apperr.PreconditionFailed, "Someone else changed this in the meantime.")
}
