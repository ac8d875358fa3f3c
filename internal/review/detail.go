package review

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/apperr"
)

// Round is one submission of a revision.
type Round struct {
	Number      int
	SubmittedAt time.Time
	SubmittedBy string
	Sheet       algorithms.FactSheet
}

// CommentView is a comment with its author's name.
type CommentView struct {
	Round   int
	Author  string
	Section string
	Body    string
	At      time.Time
}

// DecisionView is a decision with its reviewer's name.
type DecisionView struct {
	Round            int
	ReviewerID       string
	Reviewer         string
	Decision         string
	Rationale        string
	Conditions       string
	AsExpert         bool
	AcceptsException bool
	At               time.Time
}

// Detail is everything the review page and the author's overview show about a revision's
// review.
type Detail struct {
	Revision  *algorithms.Revision
	Rounds    []Round // oldest first
	Comments  []CommentView
	Decisions []DecisionView
	Approvals int
	Expert    bool
	ClaimedBy string
	// SectionTitles name the sections comments are anchored to.
	SectionTitles map[string]string
}

// CurrentRound returns the latest round, or nil before the first submission.
func (d *Detail) CurrentRound() *Round {
	if len(d.Rounds) == 0 {
		return nil
	}
	return &d.Rounds[len(d.Rounds)-1]
}

// PreviousRound returns the round before the latest, or nil.
func (d *Detail) PreviousRound() *Round {
	if len(d.Rounds) < 2 {
		return nil
	}
	return &d.Rounds[len(d.Rounds)-2]
}

// Detail loads a revision's review history.
func (s *Service) Detail(ctx context.Context, revID string) (*Detail, error) {
	rev, err := s.store.Revision(ctx, revID)
	if err != nil {
		return nil, err
	}
	d := &Detail{Revision: rev, SectionTitles: algorithms.SectionTitles}
	rows, err := s.db.Query(ctx, `SELECT r.round, r.submitted_at, u.name, r.fact_sheet FROM review_rounds r
		JOIN users u ON u.id = r.submitted_by WHERE r.revision_id = $1 ORDER BY r.round`, revID)
	if err != nil {
		return nil, err
	}
	d.Rounds, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Round, error) {
		var r Round
		var sheet []byte
		if err := row.Scan(&r.Number, &r.SubmittedAt, &r.SubmittedBy, &sheet); err != nil {
			return r, err
		}
		r.Sheet, err = algorithms.DecodeSnapshot(sheet)
		return r, err
	})
	if err != nil {
		return nil, err
	}
	rows, err = s.db.Query(ctx, `SELECT c.round, u.name, c.section, c.body, c.created_at FROM review_comments c
		JOIN users u ON u.id = c.author_id WHERE c.revision_id = $1 ORDER BY c.id`, revID)
	if err != nil {
		return nil, err
	}
	d.Comments, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (CommentView, error) {
		var c CommentView
		return c, row.Scan(&c.Round, &c.Author, &c.Section, &c.Body, &c.At)
	})
	if err != nil {
		return nil, err
	}
	rows, err = s.db.Query(ctx, `SELECT d.round, d.reviewer_id::text, u.name, d.decision, d.rationale, d.conditions, d.as_expert, d.accepts_exception, d.decided_at
		FROM review_decisions d JOIN users u ON u.id = d.reviewer_id WHERE d.revision_id = $1 ORDER BY d.id`, revID)
	if err != nil {
		return nil, err
	}
	d.Decisions, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (DecisionView, error) {
		var v DecisionView
		return v, row.Scan(&v.Round, &v.ReviewerID, &v.Reviewer, &v.Decision, &v.Rationale, &v.Conditions, &v.AsExpert, &v.AcceptsException, &v.At)
	})
	if err != nil {
		return nil, err
	}
	if cur := d.CurrentRound(); cur != nil {
		for _, dv := range d.Decisions {
			if dv.Round == cur.Number && dv.Decision == string(Approve) {
				d.Approvals++
				d.Expert = d.Expert || dv.AsExpert
			}
		}
	}
	err = s.db.QueryRow(ctx, `SELECT u.name FROM review_claims c JOIN users u ON u.id = c.reviewer_id WHERE c.revision_id = $1`,
		revID).Scan(&d.ClaimedBy)
	if err != nil && err != pgx.ErrNoRows {
		return nil, err
	}
	return d, nil
}

// Outcome of a published revision, for its public fact sheet.
type Publication struct {
	PublishedAt time.Time
	Approvals   int
	Conditions  []string
	Retirement  bool
}

// PublicationOf returns the public outcome of a published revision.
func (s *Service) PublicationOf(ctx context.Context, revID string) (*Publication, error) {
	p := &Publication{}
	err := s.db.QueryRow(ctx, `SELECT published_at, approvals, conditions, retirement FROM publications WHERE revision_id = $1`,
		revID).Scan(&p.PublishedAt, &p.Approvals, &p.Conditions, &p.Retirement)
	if err == pgx.ErrNoRows {
		return nil, apperr.New(apperr.NotFound, "")
	}
	return p, err
}
