// Package feedback lets anyone ask a question or report an error about a published entry,
// without an account. The data office moderates each message, answers it (by e-mail when the
// citizen left an address) and may publish the question with its answer under the fact sheet.
//
// Submissions are rate-limited per client address and per entry by counting rows in
// PostgreSQL, so the limits hold across every instance. The address itself is never stored:
// only a keyed SHA-256 of it, erased once no limit needs it.
package feedback

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/i18n"
)

// Kinds of message.
const (
	KindQuestion = "question"
	KindError    = "error" // an error in the fact sheet
)

// Moderation states. Only a published item is shown under the fact sheet.
const (
	StatusNew       = "new"
	StatusAnswered  = "answered"
	StatusPublished = "published"
	StatusRejected  = "rejected" // spam or abuse
)

// Statuses lists every state in moderation order.
var Statuses = []string{StatusNew, StatusAnswered, StatusPublished, StatusRejected}

// Audit actions of moderation.
const (
	AuditAnswered    = "feedback_answered"
	AuditPublished   = "feedback_published"
	AuditUnpublished = "feedback_unpublished"
	AuditRejected    = "feedback_rejected"
)

// Lengths, in characters, that the schema also enforces.
const (
	MinBody   = 10
	MaxBody   = 5000
	MaxAnswer = 5000
	MaxEmail  = 254
)

// Limit allows at most Max submissions within Window.
type Limit struct {
	Max    int
	Window time.Duration
}

// Limits bound submissions per client address (each limit applies) and per entry, whoever
// sends them: the entry limit stops a flood from many addresses burying an entry's owners.
type Limits struct {
	PerClient []Limit
	PerEntry  Limit
}

// DefaultLimits are generous for a person and tight for a script.
var DefaultLimits = Limits{
	PerClient: []Limit{{Max: 5, Window: 10 * time.Minute}, {Max: 20, Window: 24 * time.Hour}},
	PerEntry:  Limit{Max: 100, Window: time.Hour},
}

// Item is one message with its moderation.
type Item struct {
	ID          int64
	AlgorithmID string
	Revision    int // the published revision the citizen was reading
	Kind        string
	Body        string
	Email       string // optional; only to answer, never shown publicly
	Lang        string
	CreatedAt   time.Time
	Status      string
	Answer      string
	AnsweredBy  string // the moderator's name
	AnsweredAt  *time.Time
	Public      bool
}

// QA is a published question (or error report) with its answer.
type QA struct {
	ID         int64
	Kind       string
	Question   string
	Answer     string
	Lang       string // the language the citizen wrote in
	AskedAt    time.Time
	AnsweredAt time.Time
}

// Submission is what a citizen sends.
type Submission struct {
	Kind  string
	Body  string
	Email string
	// Revision is the published revision the citizen read; 0 or an unknown one means the latest.
	Revision int
	Lang     i18n.Lang
	ClientIP string
}

// Validate normalises the submission (trimmed text, Unix line breaks) and returns an Invalid
// error naming each bad field: kind, body, email.
func (s *Submission) Validate() error {
	s.Body = normalise(s.Body)
	s.Email = strings.TrimSpace(s.Email)
	fields := map[string]string{}
	if s.Kind != KindQuestion && s.Kind != KindError {
		fields["kind"] = "Choose whether you are asking a question or reporting an error."
	}
	switch n := utf8.RuneCountInString(s.Body); {
	case n < MinBody:
		fields["body"] = "Write at least 10 characters."
	case n > MaxBody:
		fields["body"] = "Use at most 5000 characters."
	}
	if s.Email != "" && !validEmail(s.Email) {
		fields["email"] = "Enter a valid e-mail address, like name@example.org, or leave this field empty."
	}
	if len(fields) > 0 {
		return apperr.InvalidFields("Please correct the errors below.", fields)
	}
	return nil
}

// validEmail accepts a bare address (no display name, no line breaks) that mail can reach.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s && len(s) <= MaxEmail &&
		strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".")
}

// normalise trims text and turns the CRLF line breaks that browsers send into LF, so that a
// text's length is what its writer saw.
func normalise(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// Store keeps feedback in PostgreSQL.
type Store struct {
	db      *pgxpool.Pool
	algs    *algorithms.Store
	users   *auth.Users
	cat     *i18n.Catalogue
	key     []byte
	baseURL string
	// Limits bound submissions; DefaultLimits unless changed before use.
	Limits Limits
	// Changed, when set, is told after a commit that the questions and answers published
	// under an entry changed, so that its cached fact sheet is dropped.
	Changed func(ctx context.Context, algorithmID string)
}

// NewStore returns the feedback store on db. secret keys the hash of client addresses: every
// instance must share it (the session key does), and it never goes into the database, so a
// copy of the database alone cannot test guessed addresses against the hashes.
func NewStore(db *pgxpool.Pool, algs *algorithms.Store, users *auth.Users, cat *i18n.Catalogue, secret []byte, baseURL string) *Store {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("registry feedback client address v1"))
	return &Store{db: db, algs: algs, users: users, cat: cat, key: m.Sum(nil),
		baseURL: strings.TrimRight(baseURL, "/"), Limits: DefaultLimits}
}

// Entry is a published entry that accepts feedback.
type Entry struct {
	Algorithm *algorithms.Algorithm
	Latest    *algorithms.Revision // the latest published revision
}

// Name returns the entry's name in lang, falling back to its original language.
func (e *Entry) Name(lang string) string {
	s := &e.Latest.Sheet
	name, _ := s.Name.In(lang, s.Lang, "ca", "es", "en")
	return name
}

// Entry returns the entry with algorithmID if the public can read it: NotFound when it has no
// published revision (a draft only) or an administrator unpublished it.
func (s *Store) Entry(ctx context.Context, algorithmID string) (*Entry, error) {
	alg, err := s.algs.Algorithm(ctx, algorithmID)
	if err != nil {
		return nil, err
	}
	if alg.UnpublishedAt != nil {
		return nil, apperr.New(apperr.NotFound, "")
	}
	rev, err := s.algs.LatestPublished(ctx, alg.ID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, apperr.New(apperr.NotFound, "")
	}
	if err != nil {
		return nil, err
	}
	return &Entry{Algorithm: alg, Latest: rev}, nil
}

// Submit stores a citizen's message about e and, in the same transaction, notifies the
// entry's owners and the administrators. It returns Invalid for bad fields and
// TooManyRequests, with RetryAfter, when the address or the entry has reached a limit.
func (s *Store) Submit(ctx context.Context, e *Entry, sub Submission) (*Item, error) {
	if err := sub.Validate(); err != nil {
		return nil, err
	}
	seen := e.Latest.Number
	if sub.Revision > 0 && sub.Revision < seen {
		if _, err := s.algs.PublishedByNumber(ctx, e.Algorithm.ID, sub.Revision); err == nil {
			seen = sub.Revision
		}
	}
	item := &Item{AlgorithmID: e.Algorithm.ID, Revision: seen, Kind: sub.Kind, Body: sub.Body, Email: sub.Email,
		Lang: string(sub.Lang), Status: StatusNew}
	if _, ok := i18n.Parse(item.Lang); !ok {
		item.Lang = string(i18n.Catalan)
	}
	hash := s.clientHash(sub.ClientIP)
	// Read before the transaction: it may wait for another submission's lock, and must then
	// not need a second connection from the pool, which the waiting ones could exhaust.
	to, err := s.staffRecipients(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("feedback: submit: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := s.checkLimits(ctx, tx, e.Algorithm.ID, hash); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO feedback (algorithm_id, revision_number, kind, body, email, lang, client_hash)
			VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7)
			RETURNING id, created_at`,
			item.AlgorithmID, item.Revision, item.Kind, item.Body, item.Email, item.Lang, hash).Scan(&item.ID, &item.CreatedAt); err != nil {
			return err
		}
		return s.notifyStaff(ctx, tx, e, item, to)
	})
	if err != nil {
		return nil, fmt.Errorf("feedback: submit: %w", err)
	}
	return item, nil
}

// clientHash returns the keyed hash that stands for a client address.
func (s *Store) clientHash(ip string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(clientKey(ip)))
	return m.Sum(nil)
}

// clientKey is the part of an address that names one client: an IPv4 address, or an IPv6
// address's /64, since one device or household is given a whole /64 and could otherwise
// step through it to escape the limits.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// tooMany is the error for a reached limit; retry is when the oldest counted submission
// leaves the window.
func tooMany(retry time.Duration) error {
	return &apperr.Error{Code: apperr.TooManyRequests, RetryAfter: max(retry, time.Second),
		Message: "You have sent several messages in a short time. Please wait a while and try again."}
}

// checkLimits refuses a submission over any limit. It first takes transaction locks on the
// address and on the entry (always in that order, so two submissions cannot deadlock), so
// that concurrent submissions on any instance are counted one after the other.
func (s *Store) checkLimits(ctx context.Context, tx pgx.Tx, algID string, hash []byte) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('feedback client ' || encode($1::bytea, 'hex'), 0))`, hash); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('feedback entry ' || $1::text, 0))`, algID); err != nil {
		return err
	}
	for _, l := range s.Limits.PerClient {
		if err := s.checkLimit(ctx, tx, `client_hash = $1`, hash, l); err != nil {
			return err
		}
	}
	return s.checkLimit(ctx, tx, `algorithm_id = $1`, algID, s.Limits.PerEntry)
}

// checkLimit counts the submissions matching where ($1 = arg) within l's window.
func (s *Store) checkLimit(ctx context.Context, tx pgx.Tx, where string, arg any, l Limit) error {
	if l.Max <= 0 {
		return nil
	}
	var n int
	var wait float64
	err := tx.QueryRow(ctx, `
		SELECT count(*), COALESCE(EXTRACT(EPOCH FROM min(created_at) + make_interval(secs => $2) - now()), 0)::float8
		FROM feedback WHERE `+where+` AND created_at > now() - make_interval(secs => $2)`,
		arg, l.Window.Seconds()).Scan(&n, &wait)
	if err != nil {
		return err
	}
	if n >= l.Max {
		return tooMany(time.Duration(math.Ceil(wait)) * time.Second)
	}
	return nil
}

// ForgetClients erases the address hashes of submissions older than the longest client
// window: no limit needs them any more, and keeping them would only let someone link a
// person's messages together.
func (s *Store) ForgetClients(ctx context.Context) (int64, error) {
	var longest time.Duration
	for _, l := range s.Limits.PerClient {
		longest = max(longest, l.Window)
	}
	tag, err := s.db.Exec(ctx, `UPDATE feedback SET client_hash = NULL
		WHERE client_hash IS NOT NULL AND created_at < now() - make_interval(secs => $1)`, longest.Seconds())
	if err != nil {
		return 0, fmt.Errorf("feedback: forget clients: %w", err)
	}
	return tag.RowsAffected(), nil
}

var errNoItem = apperr.New(apperr.NotFound, "No such message.")

const itemColumns = `f.id, f.algorithm_id, f.revision_number, f.kind, f.body, COALESCE(f.email, ''), f.lang,
	f.created_at, f.status, f.answer, COALESCE(u.name, ''), f.answered_at, f.public`

const itemFrom = ` FROM feedback f LEFT JOIN users u ON u.id = f.answered_by `

func scanItem(row pgx.Row) (*Item, error) {
	it := &Item{}
	err := row.Scan(&it.ID, &it.AlgorithmID, &it.Revision, &it.Kind, &it.Body, &it.Email, &it.Lang,
		&it.CreatedAt, &it.Status, &it.Answer, &it.AnsweredBy, &it.AnsweredAt, &it.Public)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoItem
	}
	return it, err
}
