package algorithms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
)

// lockEditable locks a revision for an edit and checks that it can be edited by by at
// version: NotFound unless by owns the entry, Conflict when it is no longer editable, and
// *StaleError when someone saved since version.
func (s *Store) lockEditable(ctx context.Context, tx pgx.Tx, revID string, version int, by Actor) (*Revision, error) {
	rev, err := s.scanRevision(tx.QueryRow(ctx, `SELECT `+revisionColumns+revisionFrom+`WHERE r.id = $1 FOR UPDATE OF r`, revID))
	if err != nil {
		return nil, err
	}
	var owner bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM algorithm_owners WHERE algorithm_id = $1 AND user_id = $2)`,
		rev.AlgorithmID, by.UserID).Scan(&owner); err != nil {
		return nil, err
	}
	if !owner {
		return nil, apperr.New(apperr.NotFound, "No such revision.")
	}
	if !rev.Editable() {
		return nil, errNotEditable
	}
	if rev.Version != version {
		return nil, &StaleError{Current: rev}
	}
	return rev, nil
}

// SaveSheet replaces the fact sheet of an editable revision, which must still be at version.
// It returns Invalid for malformed fields (nothing is saved), and see lockEditable.
func (s *Store) SaveSheet(ctx context.Context, revID string, version int, sheet FactSheet, by Actor) (*Revision, error) {
	sheet.normalise()
	if err := sheet.Validate(); err != nil {
		return nil, err
	}
	if err := s.canonicalDepartment(ctx, &sheet); err != nil {
		return nil, err
	}
	return s.save(ctx, revID, version, by, func(rev *Revision) { rev.Sheet = sheet })
}

// SaveRisk replaces the risk assessment answers, recording the definitions' versions.
func (s *Store) SaveRisk(ctx context.Context, revID string, version int, answers risk.Answers, by Actor) (*Revision, error) {
	answers.ChecklistVersion = s.Risk.Checklist.Version
	answers.ImpactVersion = s.Risk.Impact.Version
	if utf8.RuneCountInString(answers.ExceptionJustification) > 5000 {
		return nil, apperr.InvalidFields("Please correct the errors below.",
			map[string]string{"exception_justification": "Use at most 5000 characters."})
	}
	return s.save(ctx, revID, version, by, func(rev *Revision) { rev.Risk = answers })
}

func (s *Store) save(ctx context.Context, revID string, version int, by Actor, change func(*Revision)) (*Revision, error) {
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		rev, err := s.lockEditable(ctx, tx, revID, version, by)
		if err != nil {
			return err
		}
		change(rev)
		sheetJSON, riskJSON, err := encode(rev.Sheet, rev.Risk)
		if err != nil {
			return err
		}
		c := s.computed(rev.Risk)
		if _, err := tx.Exec(ctx, `
			UPDATE revisions SET fact_sheet = $2, risk_answers = $3, risk_category = $4, impact_level = $5,
				approvals_needed = $6, expert_required = $7, exception_claimed = $8,
				version = version + 1, updated_by = $9, updated_at = now()
			WHERE id = $1`, revID, sheetJSON, riskJSON, c.category, c.level, c.approvals, c.expert, c.exception, by.UserID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO revision_editors (revision_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, revID, by.UserID)
		return err
	})
	if err != nil {
		var stale *StaleError
		if errors.As(err, &stale) || apperr.CodeOf(err) != apperr.Internal {
			return nil, err
		}
		return nil, fmt.Errorf("algorithms: save revision: %w", err)
	}
	return s.Revision(ctx, revID)
}

// NewRevision starts the next revision of an entry whose latest revision is closed
// (published, rejected or withdrawn), as a draft copy of it. For a retirement, status
// becomes "retired".
func (s *Store) NewRevision(ctx context.Context, algID string, by Actor) (*Revision, error) {
	var revID string
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT FROM algorithms WHERE id = $1 FOR UPDATE`, algID); err != nil {
			return err
		}
		latest, err := s.scanRevision(tx.QueryRow(ctx, `SELECT `+revisionColumns+revisionFrom+
			`WHERE r.algorithm_id = $1 ORDER BY r.number DESC LIMIT 1`, algID))
		if err != nil {
			return err
		}
		if !slices.Contains([]string{StatePublished, StateRejected, StateWithdrawn}, latest.State) {
			return apperr.New(apperr.Conflict, "This algorithm already has a revision in progress.")
		}
		sheet := latest.Sheet
		sheet.RevisionNote = nil
		if revID, err = s.insertRevision(ctx, tx, algID, latest.Number+1, sheet, latest.Risk, by); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event(AuditNewRevision, "algorithm:"+algID, map[string]any{"number": latest.Number + 1}))
	})
	if err != nil {
		return nil, err
	}
	return s.Revision(ctx, revID)
}

// AddOwner makes the author with email a co-owner of an entry.
func (s *Store) AddOwner(ctx context.Context, algID, email string, by Actor) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var userID string
		var roles []string
		err := tx.QueryRow(ctx, `SELECT id, roles FROM users WHERE email = $1 AND disabled_at IS NULL`, email).Scan(&userID, &roles)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !slices.Contains(roles, "author")) {
			return apperr.InvalidFields("Please correct the errors below.",
				map[string]string{"email": "There is no author with this e-mail address."})
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO algorithm_owners (algorithm_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, algID, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return apperr.InvalidFields("Please correct the errors below.",
				map[string]string{"email": "This author already owns the entry."})
		}
		return audit.Record(ctx, tx, by.event(AuditOwnerAdded, "algorithm:"+algID, map[string]any{"owner": email}))
	})
}

// Entry summarises an algorithm for a list.
type Entry struct {
	AlgorithmID string
	Slug        string
	Name        Text
	Lang        string
	Number      int // latest revision
	State       string
	UpdatedAt   time.Time
	Published   int // number of the latest published revision, 0 if none
	RiskTier    string
	Unpublished bool
}

// OwnedBy lists the entries userID owns, most recently changed first.
func (s *Store) OwnedBy(ctx context.Context, userID string) ([]Entry, error) {
	return s.entries(ctx, userID)
}

// All lists every entry, most recently changed first (for administrators).
func (s *Store) All(ctx context.Context) ([]Entry, error) { return s.entries(ctx, "") }

func (s *Store) entries(ctx context.Context, ownerID string) ([]Entry, error) {
	rows, err := s.db.Query(ctx, `
		SELECT a.id, a.slug, r.fact_sheet->'name', COALESCE(r.fact_sheet->>'lang', 'ca'), r.number, r.state, r.updated_at,
			COALESCE((SELECT max(p.number) FROM revisions p WHERE p.algorithm_id = a.id AND p.state = 'published'), 0),
			COALESCE(r.risk_category, ''), a.unpublished_at IS NOT NULL
		FROM algorithms a
		JOIN LATERAL (SELECT * FROM revisions r WHERE r.algorithm_id = a.id ORDER BY number DESC LIMIT 1) r ON true
		WHERE $1 = '' OR EXISTS (SELECT FROM algorithm_owners o WHERE o.algorithm_id = a.id AND o.user_id::text = $1)
		ORDER BY r.updated_at DESC`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("algorithms: entries: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) {
		var e Entry
		return e, row.Scan(&e.AlgorithmID, &e.Slug, &e.Name, &e.Lang, &e.Number, &e.State, &e.UpdatedAt, &e.Published,
			&e.RiskTier, &e.Unpublished)
	})
}
