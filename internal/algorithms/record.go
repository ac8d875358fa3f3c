package algorithms

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/algorithms/risk"
)

// Record is a published revision as the outside world gets it: the API, the exports, the
// static site. The fact-sheet fields sit at the top level, beside what the system adds.
type Record struct {
	UUID     string `json:"uuid"`
	Slug     string `json:"slug"`
	Revision int    `json:"revision"`
	FactSheet
	// Computed from the risk assessment.
	RiskCategory string       `json:"risk_category"`
	ImpactLevel  string       `json:"impact_level"`
	Assessment   risk.Answers `json:"risk_assessment"`
	// Dates: first publication of the entry, publication of this revision.
	PublicationDate string           `json:"publication_date"`
	LastChangeDate  string           `json:"last_change_date"`
	Governance      RecordGovernance `json:"governance"`
	// Retired says the entry is no longer in use (its latest revision retires it).
	Retired bool `json:"retired"`
	// Latest says this is the entry's newest published revision.
	Latest bool `json:"latest"`
	// PublishedAt is the exact time of this revision's publication (for ordering and feeds).
	PublishedAt time.Time `json:"-"`
	// First says this is the entry's first published revision.
	First bool `json:"-"`
}

// RecordGovernance is the public outcome of the ethics review.
type RecordGovernance struct {
	Decision     string     `json:"decision"`
	DecisionDate string     `json:"decision_date"`
	Approvals    int        `json:"approvals"`
	Route        risk.Route `json:"route"`
	Conditions   []string   `json:"conditions"`
}

// EachOptions select published revisions. The zero value selects the latest published
// revision of every entry; each field set narrows the selection (record_query.go).
type EachOptions struct {
	AllVersions bool   // every published revision, not only the latest of each entry
	AlgorithmID string // one entry only
	Revision    int    // only the revision with this number
	// AfterSlug keeps entries whose slug sorts after it: the cursor of a paged listing.
	AfterSlug string
	// Limit caps the number of revisions (0: no limit).
	Limit int
	// AlgorithmIDs, when not nil, keeps only these entries (none when empty): what a
	// search found (publish.Index.Matching).
	AlgorithmIDs []string
	// Department matches part of the department's name in any language, case-insensitively.
	Department string
	// Domain, Risk (risk category), Status and Type match those fields exactly.
	Domain, Risk, Status, Type string
	// Newest, when above 0, returns only the n most recently published revisions, newest
	// first, instead of the order by slug (for feeds and "latest changes").
	Newest int
}

// EachPublished calls fn for every published revision selected by opts, ordered by slug and
// revision, reading row by row: memory stays constant whatever the size of the register.
// Entries an administrator unpublished are left out.
func (s *Store) EachPublished(ctx context.Context, opts EachOptions, fn func(*Record) error) error {
	// The review outcome lives in the review package's publications table; this read-only
	// join is the one place outside it that reads it, so that an export is one query.
	where, args := opts.where()
	limit, args := opts.limit(args)
	rows, err := s.db.Query(ctx, `
		SELECT a.id, a.slug, r.number, r.fact_sheet, r.risk_answers, COALESCE(r.decided_at, r.updated_at),
			(SELECT min(COALESCE(p.decided_at, p.updated_at)) FROM revisions p WHERE p.algorithm_id = a.id AND p.state = 'published'),
			r.number = (SELECT max(p.number) FROM revisions p WHERE p.algorithm_id = a.id AND p.state = 'published'),
			COALESCE(pub.approvals, 0), COALESCE(pub.conditions, '[]'), COALESCE(pub.retirement, false),
			r.number = (SELECT min(p.number) FROM revisions p WHERE p.algorithm_id = a.id AND p.state = 'published')
		FROM algorithms a
		JOIN revisions r ON r.algorithm_id = a.id AND r.state = 'published'
		LEFT JOIN publications pub ON pub.revision_id = r.id
		WHERE `+where+`
		ORDER BY `+opts.order()+limit, args...)
	if err != nil {
		return fmt.Errorf("algorithms: published: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		rec, err := s.scanRecord(rows)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Store) scanRecord(rows pgx.Rows) (*Record, error) {
	var rec Record
	var sheet, answers, conditions []byte
	var first time.Time
	if err := rows.Scan(&rec.UUID, &rec.Slug, &rec.Revision, &sheet, &answers, &rec.PublishedAt, &first, &rec.Latest,
		&rec.Governance.Approvals, &conditions, &rec.Retired, &rec.First); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(sheet, &rec.FactSheet); err != nil {
		return nil, fmt.Errorf("algorithms: %s fact sheet: %w", rec.Slug, err)
	}
	if err := json.Unmarshal(answers, &rec.Assessment); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(conditions, &rec.Governance.Conditions); err != nil {
		return nil, err
	}
	res := s.Risk.Assess(rec.Assessment)
	rec.RiskCategory, rec.ImpactLevel = res.Tier, res.LevelName()
	rec.Governance.Decision = "approved"
	rec.Governance.DecisionDate = rec.PublishedAt.UTC().Format(time.DateOnly)
	rev := Revision{Number: rec.Revision, Sheet: rec.FactSheet, Assessment: res}
	rec.Governance.Route = rev.Route()
	rec.PublicationDate = first.UTC().Format(time.DateOnly)
	rec.LastChangeDate = rec.Governance.DecisionDate
	rec.Retired = rec.Retired || rec.Status == "retired"
	return &rec, nil
}

// order sorts by slug and number, or newest publication first when opts.Newest is set.
func (opts EachOptions) order() string {
	if opts.Newest > 0 {
		return "COALESCE(r.decided_at, r.updated_at) DESC, a.slug, r.number"
	}
	return "a.slug, r.number"
}
