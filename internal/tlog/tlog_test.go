package tlog_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	sumtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/tlog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newLog(t *testing.T) (*tlog.Log, *pgxpool.Pool, string) {
	t.Helper()
	pool, _ := pgtest.NewDatabase(t)
	skey, vkey, err := tlog.GenerateKey("registry.test/log")
	if err != nil {
		t.Fatal(err)
	}
	l, err := tlog.New(pool, "registry.test/log", skey)
	if err != nil {
		t.Fatal(err)
	}
	if l.VerifierKey() != vkey {
		t.Fatalf("derived verifier key %q, want %q", l.VerifierKey(), vkey)
	}
	return l, pool, vkey
}

const algID = "00000000-0000-0000-0000-000000000001"

func appendN(t *testing.T, l *tlog.Log, pool *pgxpool.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := l.Append(ctx, tx, tlog.Record{Kind: tlog.KindPublication, AlgorithmID: algID, Slug: "entry",
				Revision: i + 1, FactSheetHash: tlog.HashFactSheet([]byte(fmt.Sprintf(`{"n":%d}`, i+1)))})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckpointAndProofs(t *testing.T) {
	l, pool, vkey := newLog(t)
	ctx := context.Background()
	appendN(t, l, pool, 13)
	signed, size, err := l.Checkpoint(ctx)
	if err != nil || size != 13 {
		t.Fatalf("checkpoint size %d, %v", size, err)
	}
	origin, n, root, err := tlog.OpenCheckpoint([]byte(signed), vkey)
	if err != nil || origin != "registry.test/log" || n != 13 {
		t.Fatalf("open checkpoint: %q %d %v", origin, n, err)
	}
	_, otherKey, _ := tlog.GenerateKey("registry.test/log")
	if _, _, _, err := tlog.OpenCheckpoint([]byte(signed), otherKey); err == nil {
		t.Error("a checkpoint verified with somebody else's key")
	}
	records, err := l.Records(ctx, 0, 100)
	if err != nil || len(records) != 13 {
		t.Fatalf("records: %d, %v", len(records), err)
	}
	for _, i := range []int64{0, 5, 12} {
		proof, proofRoot, err := l.InclusionProof(ctx, i, 13)
		if err != nil {
			t.Fatal(err)
		}
		if proofRoot != root {
			t.Fatalf("inclusion proof root differs from the checkpoint's")
		}
		leaf := sumtlog.RecordHash([]byte(records[i].Body))
		if err := sumtlog.CheckRecord(proof, 13, root, i, leaf); err != nil {
			t.Errorf("record %d: inclusion proof does not verify: %v", i, err)
		}
		if encoded := base64.StdEncoding.EncodeToString(leaf[:]); encoded != records[i].LeafHash {
			t.Errorf("record %d: leaf hash %s, want %s", i, records[i].LeafHash, encoded)
		}
	}
	// The tree of 7 is a prefix of the tree of 13.
	var old sumtlog.Hash
	var rawOld []byte
	if err := pool.QueryRow(ctx, `SELECT root FROM tlog_checkpoints WHERE size = 7`).Scan(&rawOld); err != nil {
		t.Fatal(err)
	}
	copy(old[:], rawOld)
	proof, err := l.ConsistencyProof(ctx, 7, 13)
	if err != nil {
		t.Fatal(err)
	}
	if err := sumtlog.CheckTree(proof, 13, root, 7, old); err != nil {
		t.Errorf("consistency proof does not verify: %v", err)
	}
	if _, _, err := l.InclusionProof(ctx, 13, 13); err == nil {
		t.Error("a proof for a record beyond the tree")
	}
}

func TestLogIsAppendOnly(t *testing.T) {
	l, pool, _ := newLog(t)
	appendN(t, l, pool, 2)
	for _, sql := range []string{`UPDATE tlog_records SET body = '{}'`, `DELETE FROM tlog_hashes`, `UPDATE tlog_checkpoints SET signed = ''`} {
		_, err := pool.Exec(context.Background(), sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s: %v, want refused", sql, err)
		}
	}
}

// memSource is a verifier's view of a register, which a test can tamper with.
type memSource struct {
	l      *tlog.Log
	sheets map[int]string
	bodies map[int64]string // replacement record bodies
	served []tlog.Ref
}

func (m *memSource) VerifierKey(context.Context) (string, error) { return m.l.VerifierKey(), nil }
func (m *memSource) Checkpoint(ctx context.Context) ([]byte, error) {
	s, _, err := m.l.Checkpoint(ctx)
	return []byte(s), err
}
func (m *memSource) Records(ctx context.Context, start int64, limit int) ([]tlog.Entry, error) {
	es, err := m.l.Records(ctx, start, limit)
	for i := range es {
		if b, ok := m.bodies[es[i].Index]; ok {
			es[i].Body = b
		}
	}
	return es, err
}
func (m *memSource) FactSheet(_ context.Context, _, _ string, rev int) ([]byte, error) {
	return []byte(m.sheets[rev]), nil
}
func (m *memSource) Published(context.Context) ([]tlog.Ref, error) { return m.served, nil }

func TestVerifyFindsTampering(t *testing.T) {
	l, pool, vkey := newLog(t)
	appendN(t, l, pool, 5)
	honest := func() *memSource {
		m := &memSource{l: l, sheets: map[int]string{}, bodies: map[int64]string{}}
		for i := 1; i <= 5; i++ {
			m.sheets[i] = fmt.Sprintf(`{"n":%d}`, i)
			m.served = append(m.served, tlog.Ref{AlgorithmID: algID, Slug: "entry", Revision: i})
		}
		return m
	}
	ctx := context.Background()
	if rep, err := tlog.Verify(ctx, honest(), vkey, io.Discard); err != nil || rep.Checked != 5 {
		t.Fatalf("honest register: %+v, %v", rep, err)
	}

	rewritten := honest()
	rewritten.sheets[3] = `{"n":"silently rewritten"}`
	if _, err := tlog.Verify(ctx, rewritten, vkey, io.Discard); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("a rewritten fact sheet went unnoticed: %v", err)
	}

	altered := honest()
	records, _ := l.Records(ctx, 2, 1)
	altered.bodies[2] = strings.Replace(records[0].Body, `"revision":3`, `"revision":33`, 1)
	if _, err := tlog.Verify(ctx, altered, vkey, io.Discard); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Errorf("an altered record went unnoticed: %v", err)
	}

	unlogged := honest()
	unlogged.served = append(unlogged.served, tlog.Ref{AlgorithmID: algID, Slug: "entry", Revision: 6})
	if _, err := tlog.Verify(ctx, unlogged, vkey, io.Discard); err == nil {
		t.Error("a revision published without a log record went unnoticed")
	}
}
