package review

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/tlog"
)

// Service runs the workflow. Every step is one transaction that locks the revision's row,
// so concurrent decisions queue up and leave one consistent outcome.
type Service struct {
	db      *pgxpool.Pool
	store   *algorithms.Store
	users   *auth.Users
	baseURL string
	// Published is told about each publication after it commits (caches).
	Published func(ctx context.Context, algorithmID, revisionID string)
	// Log records publications, unpublishings and decisions in the transparency log, in
	// their own transactions; nil only in tests that do not look at it.
	Log *tlog.Log
}

// NewService returns the workflow on db. baseURL makes links in notifications.
func NewService(db *pgxpool.Pool, store *algorithms.Store, users *auth.Users, baseURL string) *Service {
	return &Service{db: db, store: store, users: users, baseURL: strings.TrimRight(baseURL, "/")}
}

// Actor is who takes a step.
type Actor struct {
	UserID, Email   string
	Roles           []string
	ClientIP, ReqID string
}

func (a Actor) event(action, subject string, details map[string]any) audit.Event {
	return audit.Event{ActorID: a.UserID, ActorEmail: a.Email, ClientIP: a.ClientIP, RequestID: a.ReqID,
		Action: action, Subject: subject, Details: details}
}

func (a Actor) relation(l *algorithms.Locked) Relation {
	return Relation{
		Owner:    slices.Contains(l.Owners, a.UserID),
		Editor:   slices.Contains(l.Editors, a.UserID),
		Reviewer: slices.Contains(a.Roles, auth.RoleReviewer),
		Expert:   slices.Contains(a.Roles, auth.RoleExpert),
	}
}

// step runs one workflow step: lock, check, then do, then record the audit event, all in
// one transaction. A refused step is audited too (in its own transaction) and returned.
func (s *Service) step(ctx context.Context, revID string, action Action, by Actor,
	do func(tx pgx.Tx, l *algorithms.Locked) (details map[string]any, err error)) error {
	var refused error
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		l, err := s.store.Lock(ctx, tx, revID)
		if err != nil {
			return err
		}
		if err := Check(action, l.State, by.relation(l)); err != nil {
			refused = err
			return nil
		}
		from := l.State
		details, err := do(tx, l)
		if err != nil {
			return err
		}
		if details == nil {
			details = map[string]any{}
		}
		details["revision"], details["number"], details["from"] = l.ID, l.Number, from
		return audit.Record(ctx, tx, by.event("review_"+string(action), "algorithm:"+l.AlgorithmID, details))
	})
	if err != nil {
		return err
	}
	if refused != nil {
		if apperr.Is(refused, apperr.Forbidden) {
			_ = audit.Record(ctx, s.db, by.event(audit.Forbidden, "revision:"+revID,
				map[string]any{"action": action, "reason": refused.Error()}))
		}
		return refused
	}
	return nil
}

// MissingError lists what a submission lacks.
type MissingError struct {
	Problems []algorithms.Problem
}

func (e *MissingError) Error() string { return fmt.Sprintf("%d things missing", len(e.Problems)) }

// Unwrap makes it a 422.
func (e *MissingError) Unwrap() error {
	fields := map[string]string{}
	args := map[string][]any{}
	for _, p := range e.Problems {
		fields[p.Field] = p.Message
		args[p.Field] = p.Args
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "This revision is not complete yet.", Fields: fields, FieldArgs: args}
}

// Submit sends a complete revision to the committee and opens a review round. It returns
// *MissingError when fields or risk answers are missing, or the tier is unacceptable.
func (s *Service) Submit(ctx context.Context, revID string, by Actor) error {
	return s.step(ctx, revID, Submit, by, func(tx pgx.Tx, l *algorithms.Locked) (map[string]any, error) {
		missing, err := s.store.Problems(ctx, l.Revision)
		if err != nil {
			return nil, err
		}
		if len(missing) > 0 {
			return nil, &MissingError{Problems: missing}
		}
		sheet, answers, err := s.store.Snapshot(ctx, tx, l.ID)
		if err != nil {
			return nil, err
		}
		var round int
		if err := tx.QueryRow(ctx, `INSERT INTO review_rounds (revision_id, round, submitted_by, fact_sheet, risk_answers)
			SELECT $1, COALESCE(max(round), 0) + 1, $2, $3, $4 FROM review_rounds WHERE revision_id = $1
			RETURNING round`, l.ID, by.UserID, sheet, answers).Scan(&round); err != nil {
			return nil, err
		}
		if err := s.store.SetState(ctx, tx, l.ID, algorithms.StateSubmitted); err != nil {
			return nil, err
		}
		if err := s.notifyReviewers(ctx, tx, l, round); err != nil {
			return nil, err
		}
		return map[string]any{"to": algorithms.StateSubmitted, "round": round}, nil
	})
}

// Withdraw takes a revision back before a decision.
func (s *Service) Withdraw(ctx context.Context, revID string, by Actor) error {
	return s.step(ctx, revID, Withdraw, by, func(tx pgx.Tx, l *algorithms.Locked) (map[string]any, error) {
		if _, err := tx.Exec(ctx, `DELETE FROM review_claims WHERE revision_id = $1`, l.ID); err != nil {
			return nil, err
		}
		return map[string]any{"to": algorithms.StateWithdrawn}, s.store.SetState(ctx, tx, l.ID, algorithms.StateWithdrawn)
	})
}

// Claim marks a waiting revision as taken by the reviewer (replacing another claim only
// when release is false); it moves a submitted revision into review.
func (s *Service) Claim(ctx context.Context, revID string, by Actor) error {
	return s.step(ctx, revID, Claim, by, func(tx pgx.Tx, l *algorithms.Locked) (map[string]any, error) {
		tag, err := tx.Exec(ctx, `INSERT INTO review_claims (revision_id, reviewer_id) VALUES ($1, $2)
			ON CONFLICT (revision_id) DO NOTHING`, l.ID, by.UserID)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 0 {
			return nil, apperr.New(apperr.Conflict, "Another reviewer has claimed this revision.")
		}
		return nil, s.startReview(ctx, tx, l)
	})
}

// Release gives up the reviewer's claim.
func (s *Service) Release(ctx context.Context, revID string, by Actor) error {
	return s.step(ctx, revID, Release, by, func(tx pgx.Tx, l *algorithms.Locked) (map[string]any, error) {
		_, err := tx.Exec(ctx, `DELETE FROM review_claims WHERE revision_id = $1 AND reviewer_id = $2`, l.ID, by.UserID)
		return nil, err
	})
}

// Reassign gives a waiting revision's claim to another reviewer (administrators only; the
// caller checks the role).
func (s *Service) Reassign(ctx context.Context, revID, reviewerEmail string, by Actor) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		l, err := s.store.Lock(ctx, tx, revID)
		if err != nil {
			return err
		}
		if !slices.Contains(waitingStates, l.State) {
			return apperr.New(apperr.Conflict, "That is not possible in the revision's current state.")
		}
		u, err := s.users.ByEmail(ctx, reviewerEmail)
		if err != nil || u.Disabled || !u.Has(auth.RoleReviewer, auth.RoleExpert) {
			return apperr.InvalidFields("Please correct the errors below.", map[string]string{"reviewer": "There is no reviewer with this e-mail address."})
		}
		if (Actor{UserID: u.ID}).relation(l).Conflicted() {
			return ErrConflictOfInterest
		}
		if _, err := tx.Exec(ctx, `INSERT INTO review_claims (revision_id, reviewer_id) VALUES ($1, $2)
			ON CONFLICT (revision_id) DO UPDATE SET reviewer_id = $2, claimed_at = now()`, l.ID, u.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event("review_reassign", "algorithm:"+l.AlgorithmID,
			map[string]any{"revision": l.ID, "reviewer": u.Email}))
	})
}

func (s *Service) startReview(ctx context.Context, tx pgx.Tx, l *algorithms.Locked) error {
	if l.State == algorithms.StateSubmitted {
		return s.store.SetState(ctx, tx, l.ID, algorithms.StateInReview)
	}
	return nil
}

// AddComment adds a comment anchored to a section (or to the whole revision when section is
// empty). Reviewers comment on waiting revisions; owners answer.
func (s *Service) AddComment(ctx context.Context, revID, section, body string, by Actor) error {
	body = strings.TrimSpace(body)
	if body == "" || utf8.RuneCountInString(body) > 10000 {
		return apperr.InvalidFields("Please correct the errors below.", map[string]string{"body": "Write a comment of at most 10,000 characters."})
	}
	if section != "" && !slices.Contains(algorithms.Sections, section) && section != "assessment" {
		return apperr.InvalidFields("Please correct the errors below.", map[string]string{"section": "Choose one of the options."})
	}
	return s.step(ctx, revID, Comment, by, func(tx pgx.Tx, l *algorithms.Locked) (map[string]any, error) {
		round, err := currentRound(ctx, tx, l.ID)
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO review_comments (revision_id, round, author_id, section, body)
			VALUES ($1, $2, $3, $4, $5)`, l.ID, round, by.UserID, section, body); err != nil {
			return nil, err
		}
		rel := by.relation(l)
		if !rel.Owner {
			if err := s.startReview(ctx, tx, l); err != nil {
				return nil, err
			}
			if err := s.notifyOwners(ctx, tx, l, "comment", "New comment from the ethics committee", body); err != nil {
				return nil, err
			}
		}
		return map[string]any{"section": section}, nil
	})
}

func currentRound(ctx context.Context, tx pgx.Tx, revID string) (int, error) {
	var round int
	err := tx.QueryRow(ctx, `SELECT COALESCE(max(round), 0) FROM review_rounds WHERE revision_id = $1`, revID).Scan(&round)
	if err == nil && round == 0 {
		return 0, apperr.New(apperr.Conflict, "This revision has not been submitted.")
	}
	return round, err
}

// Decision is a reviewer's decision on the current round.
type Decision struct {
	Action     Action
	Rationale  string // required; internal
	Conditions string // public, for approvals
	// AcceptException must be true to approve a revision claiming the Article 6(3)
	// exception: the reviewer accepts the justification.
	AcceptException bool
}

// Outcome is the state a decision left the revision in.
type Outcome struct {
	State     string
	Approvals int
	Needed    int
}

// Decide records a reviewer's decision. Rejection ends the revision; a request for changes
// sends it back to its authors; an approval publishes it at once when it completes the
// route (enough distinct approvals, an external expert among them when required).
func (s *Service) Decide(ctx context.Context, revID string, d Decision, by Actor) (Outcome, error) {
	var out Outcome
	if !slices.Contains(Decisions, d.Action) {
		return out, apperr.InvalidFields("Please correct the errors below.", map[string]string{"decision": "Choose one of the options."})
	}
	d.Rationale, d.Conditions = strings.TrimSpace(d.Rationale), strings.TrimSpace(d.Conditions)
	fields := map[string]string{}
	if d.Rationale == "" {
		fields["rationale"] = "Explain the reasons for your decision."
	}
	if utf8.RuneCountInString(d.Rationale) > 10000 || utf8.RuneCountInString(d.Conditions) > 5000 {
		fields["rationale"] = "Use at most 10,000 characters."
	}
	if len(fields) > 0 {
		return out, apperr.InvalidFields("Please correct the errors below.", fields)
	}
	var published *algorithms.Locked
	err := s.step(ctx, revID, d.Action, by, func(tx pgx.Tx, l *algorithms.Locked) (map[string]any, error) {
		if d.Action == Approve && l.Assessment.ExceptionClaimed && !d.AcceptException {
			return nil, apperr.InvalidFields("Please correct the errors below.",
				map[string]string{"accept_exception": "To approve, accept the Article 6(3) exception justification, or request changes."})
		}
		round, err := currentRound(ctx, tx, l.ID)
		if err != nil {
			return nil, err
		}
		rel := by.relation(l)
		_, err = tx.Exec(ctx, `INSERT INTO review_decisions (revision_id, round, reviewer_id, decision, rationale, conditions, as_expert, accepts_exception)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, l.ID, round, by.UserID, string(d.Action), d.Rationale, d.Conditions, rel.Expert, d.AcceptException)
		if database.IsUniqueViolation(err, "review_decisions_once") {
			return nil, apperr.New(apperr.Conflict, "You have already decided on this round.")
		}
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM review_claims WHERE revision_id = $1`, l.ID); err != nil {
			return nil, err
		}
		out, err = s.applyDecision(ctx, tx, l, round, d)
		if err != nil {
			return nil, err
		}
		if err := s.logRecord(ctx, tx, tlog.Record{Kind: tlog.KindDecision, AlgorithmID: l.AlgorithmID,
			Revision: l.Number, Decision: string(d.Action), Round: round}); err != nil {
			return nil, err
		}
		if out.State == algorithms.StatePublished {
			published = l
		}
		return map[string]any{"to": out.State, "round": round, "approvals": out.Approvals, "needed": out.Needed}, nil
	})
	if err == nil && published != nil && s.Published != nil {
		s.Published(ctx, published.AlgorithmID, published.ID)
	}
	return out, err
}

func (s *Service) applyDecision(ctx context.Context, tx pgx.Tx, l *algorithms.Locked, round int, d Decision) (Outcome, error) {
	route := l.Route()
	out := Outcome{Needed: route.Approvals}
	var expertApproved bool
	if err := tx.QueryRow(ctx, `SELECT count(DISTINCT reviewer_id), COALESCE(bool_or(as_expert), false) FROM review_decisions
		WHERE revision_id = $1 AND round = $2 AND decision = 'approve'`, l.ID, round).Scan(&out.Approvals, &expertApproved); err != nil {
		return out, err
	}
	switch {
	case d.Action == Reject:
		out.State = algorithms.StateRejected
	case d.Action == RequestChanges:
		out.State = algorithms.StateChangesRequested
	case out.Approvals >= route.Approvals && (expertApproved || !route.ExpertRequired):
		out.State = algorithms.StatePublished
	default:
		out.State = algorithms.StateInReview
	}
	if err := s.store.SetState(ctx, tx, l.ID, out.State); err != nil {
		return out, err
	}
	if out.State == algorithms.StatePublished {
		if err := s.publish(ctx, tx, l, round, out.Approvals); err != nil {
			return out, err
		}
	}
	subject := map[string]string{
		algorithms.StateRejected:         "Your revision was rejected by the ethics committee",
		algorithms.StateChangesRequested: "The ethics committee asked for changes",
		algorithms.StatePublished:        "Your revision was approved and published",
		algorithms.StateInReview:         "Your revision received an approval",
	}[out.State]
	return out, s.notifyOwners(ctx, tx, l, "decision", subject, d.Rationale)
}

// publish records the public outcome and gives the entry its published name's slug.
func (s *Service) publish(ctx context.Context, tx pgx.Tx, l *algorithms.Locked, round, approvals int) error {
	rows, err := tx.Query(ctx, `SELECT conditions FROM review_decisions
		WHERE revision_id = $1 AND round = $2 AND decision = 'approve' AND conditions <> '' ORDER BY decided_at`, l.ID, round)
	if err != nil {
		return err
	}
	conditions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if conditions == nil {
		conditions = []string{}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO publications (revision_id, algorithm_id, number, approvals, conditions, retirement)
		VALUES ($1, $2, $3, $4, $5, $6)`, l.ID, l.AlgorithmID, l.Number, approvals, conditions, l.Sheet.Status == "retired"); err != nil {
		return err
	}
	if err := s.store.OnPublish(ctx, tx, l.Revision); err != nil {
		return err
	}
	sheet, err := json.Marshal(l.Sheet)
	if err != nil {
		return err
	}
	return s.logRecord(ctx, tx, tlog.Record{Kind: tlog.KindPublication, AlgorithmID: l.AlgorithmID, Slug: l.Slug,
		Revision: l.Number, Retired: l.Sheet.Status == "retired", FactSheetHash: tlog.HashFactSheet(sheet)})
}

// Unpublish takes an entry off the public register at once (administrators only; the caller
// checks the role), leaving a public tombstone with the reason.
func (s *Service) Unpublish(ctx context.Context, algorithmID, reason string, by Actor) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return apperr.InvalidFields("Please correct the errors below.", map[string]string{"reason": "Give the public reason for unpublishing."})
	}
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := s.store.Unpublish(ctx, tx, algorithmID, reason); err != nil {
			return err
		}
		if err := s.logRecord(ctx, tx, tlog.Record{Kind: tlog.KindUnpublish, AlgorithmID: algorithmID, Reason: reason}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event("unpublish", "algorithm:"+algorithmID, map[string]any{"reason": reason}))
	})
	if err == nil && s.Published != nil {
		s.Published(ctx, algorithmID, "")
	}
	return err
}

// logRecord appends to the transparency log, when there is one, in the step's transaction.
func (s *Service) logRecord(ctx context.Context, tx pgx.Tx, rec tlog.Record) error {
	if s.Log == nil {
		return nil
	}
	_, err := s.Log.Append(ctx, tx, rec)
	return err
}
