package algorithms

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apperr"
)

// The review workflow (package review) moves revisions between states through these
// functions, inside its own transactions; the revisions table stays this package's.

// Locked is a revision locked for a workflow step, with who may not review it.
type Locked struct {
	*Revision
	Slug    string
	Owners  []string // user IDs
	Editors []string // user IDs of everyone who saved it
}

// Route is the review this revision needs: its risk route, or one approval for a
// retirement of a published entry.
func (r *Revision) Route() risk.Route {
	if r.Sheet.Status == "retired" && r.Number > 1 {
		return risk.Route{Approvals: 1}
	}
	route := r.Assessment.Route
	route.Approvals = max(route.Approvals, 1)
	return route
}

// Lock locks a revision (FOR UPDATE) for a workflow step in tx.
func (s *Store) Lock(ctx context.Context, tx pgx.Tx, revID string) (*Locked, error) {
	rev, err := s.scanRevision(tx.QueryRow(ctx, `SELECT `+revisionColumns+revisionFrom+`WHERE r.id = $1 FOR UPDATE OF r`, revID))
	if err != nil {
		return nil, err
	}
	l := &Locked{Revision: rev}
	if err := tx.QueryRow(ctx, `SELECT slug FROM algorithms WHERE id = $1`, rev.AlgorithmID).Scan(&l.Slug); err != nil {
		return nil, err
	}
	if l.Owners, err = userIDs(ctx, tx, `SELECT user_id::text FROM algorithm_owners WHERE algorithm_id = $1`, rev.AlgorithmID); err != nil {
		return nil, err
	}
	if l.Editors, err = userIDs(ctx, tx, `SELECT user_id::text FROM revision_editors WHERE revision_id = $1`, rev.ID); err != nil {
		return nil, err
	}
	return l, nil
}

func userIDs(ctx context.Context, tx pgx.Tx, sql, id string) ([]string, error) {
	rows, err := tx.Query(ctx, sql, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// SetState moves a locked revision to state, stamping submission or decision time.
func (s *Store) SetState(ctx context.Context, tx pgx.Tx, revID, state string) error {
	var stamp string
	switch state {
	case StateSubmitted:
		stamp = ", submitted_at = now()"
	case StateApproved, StatePublished, StateRejected, StateChangesRequested:
		stamp = ", decided_at = now()"
	}
	// The version moves too: a copy taken before the step is stale after it.
	_, err := tx.Exec(ctx, `UPDATE revisions SET state = $2, version = version + 1`+stamp+` WHERE id = $1`, revID, state)
	if err != nil {
		return fmt.Errorf("algorithms: set state: %w", err)
	}
	return nil
}

// Snapshot returns the stored fact sheet and risk answers of a revision as JSON, for the
// review's record of what was submitted.
func (s *Store) Snapshot(ctx context.Context, tx pgx.Tx, revID string) (sheet, answers []byte, err error) {
	err = tx.QueryRow(ctx, `SELECT fact_sheet, risk_answers FROM revisions WHERE id = $1`, revID).Scan(&sheet, &answers)
	return sheet, answers, err
}

// DecodeSnapshot reads a snapshot back.
func DecodeSnapshot(sheetJSON []byte) (FactSheet, error) {
	var fs FactSheet
	err := json.Unmarshal(sheetJSON, &fs)
	return fs, err
}

// OnPublish renames a published entry whose name changed since its previous published
// revision: it gets the slug of the new name, and the old slug stays as a redirect. Called
// in the publishing transaction.
func (s *Store) OnPublish(ctx context.Context, tx pgx.Tx, rev *Revision) error {
	var previous string
	err := tx.QueryRow(ctx, `SELECT fact_sheet->'name'->>(fact_sheet->>'lang') FROM revisions
		WHERE algorithm_id = $1 AND state = 'published' AND number < $2 ORDER BY number DESC LIMIT 1`,
		rev.AlgorithmID, rev.Number).Scan(&previous)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	name := rev.Sheet.Name[rev.Sheet.Lang]
	if name == previous || Slugify(name) == Slugify(previous) {
		return nil
	}
	want := Slugify(name)
	// Reuse one of this entry's own earlier slugs, else a fresh one.
	var owner string
	slug := want
	err = tx.QueryRow(ctx, `SELECT algorithm_id FROM algorithm_slugs WHERE slug = $1`, want).Scan(&owner)
	switch {
	case err == pgx.ErrNoRows:
		if _, err := tx.Exec(ctx, `INSERT INTO algorithm_slugs (slug, algorithm_id) VALUES ($1, $2)`, slug, rev.AlgorithmID); err != nil {
			return err
		}
	case err != nil:
		return err
	case owner != rev.AlgorithmID:
		if slug, err = uniqueSlug(ctx, tx, want); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO algorithm_slugs (slug, algorithm_id) VALUES ($1, $2)`, slug, rev.AlgorithmID); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `UPDATE algorithms SET slug = $2 WHERE id = $1`, rev.AlgorithmID, slug)
	return err
}

// Unpublish withdraws an entry from the public register, leaving a tombstone with reason.
func (s *Store) Unpublish(ctx context.Context, tx pgx.Tx, algID, reason string) error {
	tag, err := tx.Exec(ctx, `UPDATE algorithms SET unpublished_at = now(), unpublish_reason = $2
		WHERE id = $1 AND unpublished_at IS NULL`, algID, reason)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return apperr.New(apperr.Conflict, "This entry is already unpublished.")
	}
	return nil
}

// Waiting is a revision waiting for the committee, for the queue.
type Waiting struct {
	RevisionID  string
	AlgorithmID string
	Slug        string
	Name        Text
	Lang        string
	Number      int
	State       string
	SubmittedAt time.Time
	Department  Text
	RiskTier    string
	Level       int
	Route       risk.Route
	Owners      []string
	Editors     []string
}

// WaitingForReview lists revisions in submitted or in_review, oldest submission first.
func (s *Store) WaitingForReview(ctx context.Context) ([]Waiting, error) {
	rows, err := s.db.Query(ctx, `
		SELECT r.id, a.id, a.slug, r.fact_sheet->'name', COALESCE(r.fact_sheet->>'lang', 'ca'), r.number, r.state,
			COALESCE(r.submitted_at, r.updated_at), COALESCE(r.fact_sheet->'department', '{}'),
			COALESCE(r.risk_category, ''), COALESCE(r.impact_level, 0), r.approvals_needed, r.expert_required,
			r.fact_sheet->>'status' = 'retired' AND r.number > 1,
			ARRAY(SELECT user_id::text FROM algorithm_owners o WHERE o.algorithm_id = a.id),
			ARRAY(SELECT user_id::text FROM revision_editors e WHERE e.revision_id = r.id)
		FROM revisions r JOIN algorithms a ON a.id = r.algorithm_id
		WHERE r.state IN ('submitted', 'in_review')
		ORDER BY COALESCE(r.submitted_at, r.updated_at)`)
	if err != nil {
		return nil, fmt.Errorf("algorithms: waiting: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Waiting, error) {
		var w Waiting
		var retirement bool
		err := row.Scan(&w.RevisionID, &w.AlgorithmID, &w.Slug, &w.Name, &w.Lang, &w.Number, &w.State, &w.SubmittedAt,
			&w.Department, &w.RiskTier, &w.Level, &w.Route.Approvals, &w.Route.ExpertRequired, &retirement, &w.Owners, &w.Editors)
		if retirement {
			w.Route = risk.Route{Approvals: 1}
		}
		return w, err
	})
}
