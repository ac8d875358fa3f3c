package algorithms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
	"github.com/civictech/registry/internal/database"
)

// Audit actions of entries.
const (
	AuditCreated     = "algorithm_created"
	AuditOwnerAdded  = "algorithm_owner_added"
	AuditNewRevision = "revision_created"
)

// Store keeps algorithms and revisions in PostgreSQL.
type Store struct {
	db   database.Querier
	Risk *risk.Definitions
	// Departments is the data office's list (the departments package); nil: departments
	// are free text.
	Departments DepartmentList
}

// DepartmentList is the data office's list of the council's departments.
type DepartmentList interface {
	// Lookup returns the names in every language of the active department called name in
	// lang (nil when none is), and whether an entry may name it: a listed department, or
	// any name while the list is empty.
	Lookup(ctx context.Context, lang, name string) (names map[string]string, acceptable bool, err error)
}

// canonicalDepartment gives a sheet whose department, in its original language, is on the
// data office's list that department's own names in every language: the office translated
// them once for every entry.
func (s *Store) canonicalDepartment(ctx context.Context, sheet *FactSheet) error {
	name := sheet.Department[sheet.Lang]
	if s.Departments == nil || name == "" {
		return nil
	}
	names, _, err := s.Departments.Lookup(ctx, sheet.Lang, name)
	if err != nil || names == nil {
		return err
	}
	sheet.Department = Text{}
	for _, l := range Languages {
		if names[l] != "" {
			sheet.Department[l] = names[l]
		}
	}
	return nil
}

// NewStore returns the store on db, assessing risk with defs.
func NewStore(db database.Querier, defs *risk.Definitions) *Store { return &Store{db: db, Risk: defs} }

// Actor is who does something, for ownership, editors and audit events.
type Actor struct {
	UserID, Email, ClientIP, RequestID string
}

func (a Actor) event(action, subject string, details map[string]any) audit.Event {
	return audit.Event{ActorID: a.UserID, ActorEmail: a.Email, ClientIP: a.ClientIP, RequestID: a.RequestID,
		Action: action, Subject: subject, Details: details}
}

var errNoAlgorithm = apperr.New(apperr.NotFound, "No such algorithm.")

// Create registers a new algorithm owned by its creator, with revision 1 as a draft. The
// sheet may be incomplete but must be well-formed and named in its original language.
func (s *Store) Create(ctx context.Context, by Actor, sheet FactSheet) (*Algorithm, *Revision, error) {
	return s.CreateWithSlug(ctx, by, sheet, "")
}

// CreateWithSlug is Create with a chosen slug (imports and the demo keep theirs); the slug
// is made unique like any other. An empty slug is made from the name.
func (s *Store) CreateWithSlug(ctx context.Context, by Actor, sheet FactSheet, slug string) (*Algorithm, *Revision, error) {
	return s.create(ctx, by, sheet, risk.Answers{}, slug)
}

// create registers the algorithm, its owner and revision 1 in one transaction.
func (s *Store) create(ctx context.Context, by Actor, sheet FactSheet, answers risk.Answers, slug string) (*Algorithm, *Revision, error) {
	algs, err := s.CreateDrafts(ctx, by, []NewDraft{{Sheet: sheet, Answers: answers, Slug: slug}})
	if err != nil {
		return nil, nil, err
	}
	rev, err := s.Latest(ctx, algs[0].ID)
	return algs[0], rev, err
}

// NewDraft is an entry to create: its fact sheet, risk answers and preferred slug (empty:
// made from the name).
type NewDraft struct {
	Sheet   FactSheet
	Answers risk.Answers
	Slug    string
}

// CreateDrafts registers several entries owned by by in ONE transaction: all or none (an
// import). Each sheet may be incomplete but must be well-formed and named in its original
// language; the first that is not is returned as an Invalid error and nothing is created.
func (s *Store) CreateDrafts(ctx context.Context, by Actor, drafts []NewDraft) ([]*Algorithm, error) {
	for i := range drafts {
		d := &drafts[i]
		d.Sheet.normalise()
		if err := d.Sheet.Validate(); err != nil {
			return nil, err
		}
		if err := s.canonicalDepartment(ctx, &d.Sheet); err != nil {
			return nil, err
		}
		if d.Sheet.Name[d.Sheet.Lang] == "" {
			return nil, apperr.InvalidFields("Please correct the errors below.",
				map[string]string{"name": "Fill in this field in the original language."})
		}
	}
	ids := make([]string, len(drafts))
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		for i, d := range drafts {
			var err error
			if ids[i], err = s.insertEntry(ctx, tx, by, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("algorithms: create: %w", err)
	}
	out := make([]*Algorithm, len(ids))
	for i, id := range ids {
		if out[i], err = s.Algorithm(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// insertEntry writes one new entry with revision 1 as a draft, and its audit event.
func (s *Store) insertEntry(ctx context.Context, tx pgx.Tx, by Actor, d NewDraft) (string, error) {
	base := Slugify(d.Slug)
	if d.Slug == "" {
		base = Slugify(d.Sheet.Name[d.Sheet.Lang])
	}
	slug, err := uniqueSlug(ctx, tx, base)
	if err != nil {
		return "", err
	}
	var algID string
	if err := tx.QueryRow(ctx, `INSERT INTO algorithms (slug, created_by) VALUES ($1, $2) RETURNING id`,
		slug, by.UserID).Scan(&algID); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO algorithm_slugs (slug, algorithm_id) VALUES ($1, $2)`, slug, algID); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO algorithm_owners (algorithm_id, user_id) VALUES ($1, $2)`, algID, by.UserID); err != nil {
		return "", err
	}
	if _, err := s.insertRevision(ctx, tx, algID, 1, d.Sheet, d.Answers, by); err != nil {
		return "", err
	}
	return algID, audit.Record(ctx, tx, by.event(AuditCreated, "algorithm:"+algID, map[string]any{"slug": slug}))
}

// uniqueSlug returns base, or base-2, base-3… whichever no algorithm has ever used.
func uniqueSlug(ctx context.Context, tx pgx.Tx, base string) (string, error) {
	for n := 1; ; n++ {
		slug := base
		if n > 1 {
			slug = base + "-" + strconv.Itoa(n)
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM algorithm_slugs WHERE slug = $1)`, slug).Scan(&taken); err != nil {
			return "", err
		}
		if !taken {
			return slug, nil
		}
	}
}

func (s *Store) insertRevision(ctx context.Context, tx pgx.Tx, algID string, number int, sheet FactSheet,
	answers risk.Answers, by Actor) (string, error) {
	sheetJSON, riskJSON, err := encode(sheet, answers)
	if err != nil {
		return "", err
	}
	c := s.computed(answers)
	var id string
	err = tx.QueryRow(ctx, `
		INSERT INTO revisions (algorithm_id, number, fact_sheet, risk_answers, risk_category, impact_level,
			approvals_needed, expert_required, exception_claimed, created_by, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
		algID, number, sheetJSON, riskJSON, c.category, c.level, c.approvals, c.expert, c.exception, by.UserID).Scan(&id)
	if database.IsUniqueViolation(err, "revisions_one_open") {
		return "", apperr.New(apperr.Conflict, "This algorithm already has a revision in progress.")
	}
	if err != nil {
		return "", err
	}
	_, err = tx.Exec(ctx, `INSERT INTO revision_editors (revision_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, by.UserID)
	return id, err
}

type computedRisk struct {
	category  *string
	level     *int
	approvals int
	expert    bool
	exception bool
}

// computed is what the stored columns hold: the tier and level once the assessment is
// complete, and always the strictest route known so far.
func (s *Store) computed(a risk.Answers) computedRisk {
	res := s.Risk.Assess(a)
	c := computedRisk{approvals: max(1, res.Route.Approvals), expert: res.Route.ExpertRequired, exception: res.ExceptionClaimed}
	if len(res.Missing) == 0 && !res.VersionMismatch {
		tier, level := res.Tier, res.Level
		c.category, c.level = &tier, &level
	}
	return c
}

func encode(sheet FactSheet, answers risk.Answers) ([]byte, []byte, error) {
	sheetJSON, err := json.Marshal(sheet)
	if err != nil {
		return nil, nil, err
	}
	riskJSON, err := json.Marshal(answers)
	return sheetJSON, riskJSON, err
}

// normalise trims text, drops empty languages and empty rows, and defaults the language.
func (fs *FactSheet) normalise() {
	if fs.Lang == "" {
		fs.Lang = "ca"
	}
	cleanTexts(fs)
	kw := fs.Keywords[:0:0]
	for _, k := range fs.Keywords {
		if k = strings.TrimSpace(k); k != "" {
			kw = append(kw, k)
		}
	}
	fs.Keywords = kw
}

// Algorithm returns the algorithm with id and its owners; NotFound when there is none.
func (s *Store) Algorithm(ctx context.Context, id string) (*Algorithm, error) {
	a := &Algorithm{}
	err := s.db.QueryRow(ctx, `SELECT id, slug, created_at, unpublished_at, COALESCE(unpublish_reason, '') FROM algorithms WHERE id = $1`,
		id).Scan(&a.ID, &a.Slug, &a.CreatedAt, &a.UnpublishedAt, &a.UnpublishReason)
	if errors.Is(err, pgx.ErrNoRows) || isInvalidUUID(err) {
		return nil, errNoAlgorithm
	}
	if err != nil {
		return nil, fmt.Errorf("algorithms: load %s: %w", id, err)
	}
	rows, err := s.db.Query(ctx, `SELECT u.id, u.name, u.email FROM algorithm_owners o JOIN users u ON u.id = o.user_id
		WHERE o.algorithm_id = $1 ORDER BY o.added_at`, id)
	if err != nil {
		return nil, err
	}
	a.Owners, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Owner, error) {
		var o Owner
		return o, row.Scan(&o.ID, &o.Name, &o.Email)
	})
	return a, err
}

const revisionColumns = `r.id, r.algorithm_id, r.number, r.state, r.version, r.fact_sheet, r.risk_answers,
	r.created_at, r.updated_at, COALESCE(u.name, '')`

const revisionFrom = ` FROM revisions r LEFT JOIN users u ON u.id = r.updated_by `

func (s *Store) scanRevision(row pgx.Row) (*Revision, error) {
	r := &Revision{}
	var sheet, answers []byte
	err := row.Scan(&r.ID, &r.AlgorithmID, &r.Number, &r.State, &r.Version, &sheet, &answers, &r.CreatedAt, &r.UpdatedAt, &r.UpdatedBy)
	if errors.Is(err, pgx.ErrNoRows) || isInvalidUUID(err) {
		return nil, apperr.New(apperr.NotFound, "No such revision.")
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(sheet, &r.Sheet); err != nil {
		return nil, fmt.Errorf("algorithms: revision %s fact sheet: %w", r.ID, err)
	}
	if err := json.Unmarshal(answers, &r.Risk); err != nil {
		return nil, fmt.Errorf("algorithms: revision %s risk: %w", r.ID, err)
	}
	r.Assessment = s.Risk.Assess(r.Risk)
	return r, nil
}

// Revision returns the revision with id; NotFound when there is none.
func (s *Store) Revision(ctx context.Context, id string) (*Revision, error) {
	return s.scanRevision(s.db.QueryRow(ctx, `SELECT `+revisionColumns+revisionFrom+`WHERE r.id = $1`, id))
}

// RevisionByNumber returns revision number n of an algorithm.
func (s *Store) RevisionByNumber(ctx context.Context, algID string, n int) (*Revision, error) {
	return s.scanRevision(s.db.QueryRow(ctx, `SELECT `+revisionColumns+revisionFrom+
		`WHERE r.algorithm_id = $1 AND r.number = $2`, algID, n))
}

// Latest returns the newest revision of an algorithm, whatever its state.
func (s *Store) Latest(ctx context.Context, algID string) (*Revision, error) {
	return s.scanRevision(s.db.QueryRow(ctx, `SELECT `+revisionColumns+revisionFrom+
		`WHERE r.algorithm_id = $1 ORDER BY r.number DESC LIMIT 1`, algID))
}

// Revisions returns every revision of an algorithm, newest first.
func (s *Store) Revisions(ctx context.Context, algID string) ([]*Revision, error) {
	rows, err := s.db.Query(ctx, `SELECT `+revisionColumns+revisionFrom+`WHERE r.algorithm_id = $1 ORDER BY r.number DESC`, algID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Revision, error) { return s.scanRevision(row) })
}

// isInvalidUUID reports a malformed ID in a query (invalid_text_representation): to the
// client that is simply "not found".
func isInvalidUUID(err error) bool { return database.HasCode(err, "22P02") }

// LatestPublished returns the newest published revision of an algorithm; NotFound if none.
func (s *Store) LatestPublished(ctx context.Context, algID string) (*Revision, error) {
	return s.scanRevision(s.db.QueryRow(ctx, `SELECT `+revisionColumns+revisionFrom+
		`WHERE r.algorithm_id = $1 AND r.state = 'published' ORDER BY r.number DESC LIMIT 1`, algID))
}

// Editors returns the IDs of everyone who saved a revision.
func (s *Store) Editors(ctx context.Context, revID string) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT user_id::text FROM revision_editors WHERE revision_id = $1`, revID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// BySlug returns the algorithm that has or had slug (a renamed entry keeps its old slugs).
func (s *Store) BySlug(ctx context.Context, slug string) (*Algorithm, error) {
	var id string
	err := s.db.QueryRow(ctx, `SELECT algorithm_id FROM algorithm_slugs WHERE slug = $1`, slug).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoAlgorithm
	}
	if err != nil {
		return nil, err
	}
	return s.Algorithm(ctx, id)
}

// PublishedByNumber returns published revision n of an algorithm; NotFound when revision n
// does not exist or was never published.
func (s *Store) PublishedByNumber(ctx context.Context, algID string, n int) (*Revision, error) {
	return s.scanRevision(s.db.QueryRow(ctx, `SELECT `+revisionColumns+revisionFrom+
		`WHERE r.algorithm_id = $1 AND r.number = $2 AND r.state = 'published'`, algID, n))
}

// PublishedRevisions returns the published revisions of an algorithm, newest first.
func (s *Store) PublishedRevisions(ctx context.Context, algID string) ([]*Revision, error) {
	rows, err := s.db.Query(ctx, `SELECT `+revisionColumns+revisionFrom+
		`WHERE r.algorithm_id = $1 AND r.state = 'published' ORDER BY r.number DESC`, algID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Revision, error) { return s.scanRevision(row) })
}
