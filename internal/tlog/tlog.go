// Package tlog is the register's transparency log: every publication, retirement,
// unpublishing and review decision is appended as a record to a Merkle tree hashed as in
// RFC 6962 (golang.org/x/mod/sumdb/tlog), and each new tree head is signed as a checkpoint
// (golang.org/x/mod/sumdb/note, Ed25519). Anyone holding an old checkpoint can ask for a
// consistency proof that the log only grew, and for an inclusion proof of any record, so a
// published fact sheet cannot be silently rewritten: its hash is in the log.
package tlog

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/civictech/registry/internal/apperr"
)

// Kinds of record.
const (
	KindPublication = "publication" // a revision became public (a retirement is one with Retired)
	KindUnpublish   = "unpublish"   // an administrator took an entry off the register
	KindDecision    = "decision"    // a reviewer decided on a submission round
)

// Record is one log entry. It names what happened and, for publications, the SHA-256 of the
// published fact sheet's canonical JSON (FactSheetHash), which a verifier recomputes from
// the public API.
type Record struct {
	Kind          string    `json:"kind"`
	AlgorithmID   string    `json:"algorithm"`
	Slug          string    `json:"slug,omitempty"`
	Revision      int       `json:"revision,omitempty"`
	Retired       bool      `json:"retired,omitempty"`
	Decision      string    `json:"decision,omitempty"`
	Round         int       `json:"round,omitempty"`
	FactSheetHash string    `json:"fact_sheet_sha256,omitempty"`
	Reason        string    `json:"reason,omitempty"` // the public reason of an unpublishing
	At            time.Time `json:"at"`
}

// HashFactSheet returns the hex SHA-256 of a fact sheet's canonical JSON (encoding/json of
// the algorithms.FactSheet value: fields in declaration order, map keys sorted).
func HashFactSheet(canonicalJSON []byte) string {
	sum := sha256.Sum256(canonicalJSON)
	return hex.EncodeToString(sum[:])
}

// Log appends to and reads from the log in PostgreSQL.
type Log struct {
	db       *pgxpool.Pool
	origin   string
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

// New returns the log on db, signing checkpoints with skey (a note signer key: see
// GenerateKey). origin names the log in its checkpoints, e.g. "algorismes.barcelona.cat/log".
func New(db *pgxpool.Pool, origin, skey string) (*Log, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("tlog: signer key: %w", err)
	}
	vkey, err := verifierKey(skey)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &Log{db: db, origin: origin, signer: signer, verifier: verifier, vkey: vkey}, nil
}

// GenerateKey returns a new signer key and its public verifier key for origin.
func GenerateKey(origin string) (skey, vkey string, err error) {
	return note.GenerateKey(nil, keyName(origin))
}

// keyName makes a note key name from an origin (names may not contain '+' or spaces).
func keyName(origin string) string {
	return strings.NewReplacer("+", "-", " ", "-").Replace(origin)
}

// verifierKey derives the public verifier key from a signer key
// ("PRIVATE+KEY+name+hash+key" → "name+hash+key" with the public key).
func verifierKey(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("tlog: malformed signer key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return "", errors.New("tlog: malformed signer key")
	}
	return note.NewEd25519VerifierKey(parts[2], ed25519Public(raw[1:]))
}

// VerifierKey is the public key checkpoints are signed with, to publish.
func (l *Log) VerifierKey() string { return l.vkey }

// Origin names the log.
func (l *Log) Origin() string { return l.origin }

// lockKey serialises appends: the tree has one tip.
const lockKey = 7_362_917_001

// Append adds rec inside tx (the transaction of the action it records, so that the record
// exists if and only if the action happened) and signs the new checkpoint.
func (l *Log) Append(ctx context.Context, tx pgx.Tx, rec Record) (int64, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
		return 0, err
	}
	var n int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(max(index) + 1, 0) FROM tlog_records`).Scan(&n); err != nil {
		return 0, err
	}
	if rec.At.IsZero() {
		rec.At = time.Now().UTC()
	}
	rec.At = rec.At.UTC().Truncate(time.Second)
	body, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	reader := txHashReader(ctx, tx)
	hashes, err := tlog.StoredHashes(n, body, reader)
	if err != nil {
		return 0, fmt.Errorf("tlog: hashes: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO tlog_records (index, kind, algorithm_id, body) VALUES ($1, $2, $3, $4)`,
		n, rec.Kind, rec.AlgorithmID, string(body)); err != nil {
		return 0, err
	}
	first := tlog.StoredHashIndex(0, n)
	for i, h := range hashes {
		if _, err := tx.Exec(ctx, `INSERT INTO tlog_hashes (id, hash) VALUES ($1, $2)`, first+int64(i), h[:]); err != nil {
			return 0, err
		}
	}
	root, err := tlog.TreeHash(n+1, reader)
	if err != nil {
		return 0, err
	}
	signed, err := note.Sign(&note.Note{Text: FormatCheckpoint(l.origin, n+1, root)}, l.signer)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO tlog_checkpoints (size, root, signed) VALUES ($1, $2, $3)`,
		n+1, root[:], string(signed)); err != nil {
		return 0, err
	}
	return n, nil
}

// FormatCheckpoint is the checkpoint text (C2SP tlog-checkpoint): origin, tree size, root.
func FormatCheckpoint(origin string, size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
}

// ParseCheckpoint reads a checkpoint text back.
func ParseCheckpoint(text string) (origin string, size int64, root tlog.Hash, err error) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 {
		return "", 0, root, errors.New("tlog: malformed checkpoint")
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return "", 0, root, errors.New("tlog: malformed checkpoint size")
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return "", 0, root, errors.New("tlog: malformed checkpoint hash")
	}
	copy(root[:], raw)
	return lines[0], size, root, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// txHashReader reads stored hashes in the order asked.
func txHashReader(ctx context.Context, q querier) tlog.HashReaderFunc {
	return func(ids []int64) ([]tlog.Hash, error) {
		rows, err := q.Query(ctx, `SELECT id, hash FROM tlog_hashes WHERE id = ANY($1)`, ids)
		if err != nil {
			return nil, err
		}
		found := map[int64]tlog.Hash{}
		var id int64
		var raw []byte
		if _, err := pgx.ForEachRow(rows, []any{&id, &raw}, func() error {
			var h tlog.Hash
			copy(h[:], raw)
			found[id] = h
			return nil
		}); err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			h, ok := found[id]
			if !ok {
				return nil, fmt.Errorf("tlog: missing stored hash %d", id)
			}
			out[i] = h
		}
		return out, nil
	}
}

// Checkpoint returns the latest signed checkpoint; NotFound while the log is empty.
func (l *Log) Checkpoint(ctx context.Context) (signed string, size int64, err error) {
	err = l.db.QueryRow(ctx, `SELECT signed, size FROM tlog_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&signed, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, apperr.New(apperr.NotFound, "The transparency log is empty.")
	}
	return signed, size, err
}

// Entry is a stored record with its position and leaf hash.
type Entry struct {
	Index    int64     `json:"index"`
	Body     string    `json:"body"`
	Record   Record    `json:"record"`
	LeafHash string    `json:"leaf_hash"`
	At       time.Time `json:"-"`
}

// Records returns up to limit records from start.
func (l *Log) Records(ctx context.Context, start int64, limit int) ([]Entry, error) {
	rows, err := l.db.Query(ctx, `SELECT index, body, created_at FROM tlog_records WHERE index >= $1 ORDER BY index LIMIT $2`, start, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) {
		var e Entry
		if err := row.Scan(&e.Index, &e.Body, &e.At); err != nil {
			return e, err
		}
		h := tlog.RecordHash([]byte(e.Body))
		e.LeafHash = base64.StdEncoding.EncodeToString(h[:])
		return e, json.Unmarshal([]byte(e.Body), &e.Record)
	})
}

// InclusionProof proves that record index is in the tree of size size.
func (l *Log) InclusionProof(ctx context.Context, index, size int64) (tlog.RecordProof, tlog.Hash, error) {
	if err := l.checkSize(ctx, size); err != nil || index < 0 || index >= size {
		return nil, tlog.Hash{}, apperr.New(apperr.BadRequest, "Ask for a record index below a tree size the log has reached.")
	}
	reader := txHashReader(ctx, l.db)
	proof, err := tlog.ProveRecord(size, index, reader)
	if err != nil {
		return nil, tlog.Hash{}, err
	}
	root, err := tlog.TreeHash(size, reader)
	return proof, root, err
}

// ConsistencyProof proves that the tree of size old is a prefix of the tree of size size.
func (l *Log) ConsistencyProof(ctx context.Context, old, size int64) (tlog.TreeProof, error) {
	if err := l.checkSize(ctx, size); err != nil || old < 1 || old > size {
		return nil, apperr.New(apperr.BadRequest, "Ask for 0 < old ≤ new ≤ the log's size.")
	}
	return tlog.ProveTree(size, old, txHashReader(ctx, l.db))
}

func (l *Log) checkSize(ctx context.Context, size int64) error {
	var n int64
	if err := l.db.QueryRow(ctx, `SELECT COALESCE(max(index) + 1, 0) FROM tlog_records`).Scan(&n); err != nil {
		return err
	}
	if size < 1 || size > n {
		return errors.New("size out of range")
	}
	return nil
}

// OpenCheckpoint verifies a signed checkpoint with vkey and returns its content.
func OpenCheckpoint(signed []byte, vkey string) (origin string, size int64, root tlog.Hash, err error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return "", 0, root, err
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return "", 0, root, fmt.Errorf("tlog: checkpoint signature: %w", err)
	}
	return ParseCheckpoint(n.Text)
}
