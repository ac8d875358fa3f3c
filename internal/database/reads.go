package database

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Querier is what a store needs of the database: a *pgxpool.Pool, or Reads for the public
// side's reads.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Reads sends reads to a streaming replica (a hot standby of the primary) whenever the
// replica has replayed every change announced so far, and to the primary otherwise. It is
// for the public side: published pages, searches, the public API and the exports.
//
// Why the condition: public pages are cached until an entry changes, and the change is
// announced (LISTEN/NOTIFY) as soon as the primary commits it. A replica even a few
// milliseconds behind would rebuild the page from the old data, and the cache would then
// keep the old page until the entry's next change. So whoever drops cached pages calls
// Require first, which notes how far the primary's write-ahead log has got; reads go to the
// replica again once its replay position has passed that point.
//
// With no replica, every read goes to the primary.
type Reads struct {
	primary *pgxpool.Pool
	replica *pgxpool.Pool
	log     *slog.Logger

	// want is the WAL position (bytes from 0/0) the replica must have replayed before it
	// is read again; math.MaxInt64 while that position is unknown.
	want atomic.Int64
	// seen is the replica's replay position when last asked; -1 while it is unreachable or
	// not a standby.
	seen atomic.Int64
	// checked is when the replica was last asked (Unix nanoseconds): while it is behind,
	// reads ask again at most every checkEvery, and go to the primary in between.
	checked atomic.Int64
	// state is the replica's last state (replicaUnknown…), so that only changes are logged.
	state atomic.Int32
}

const (
	replicaUnknown int32 = iota
	replicaInUse
	replicaUnreachable
	replicaNotStandby
)

// walPageHeaderSize is the size of a WAL page's header (XLogPageHeaderData; a segment's
// first page has a longer one, so there a replica may wait for the next record to pass).
const walPageHeaderSize = 24

// checkEvery bounds how often reads ask a lagging replica for its position.
const checkEvery = 20 * time.Millisecond

// NewReads returns the reads of primary, sent to replica when it is not nil. Run keeps its
// view of the replica current.
func NewReads(primary, replica *pgxpool.Pool, log *slog.Logger) *Reads {
	r := &Reads{primary: primary, replica: replica, log: log}
	r.seen.Store(-1)
	return r
}

// Require makes reads wait for the replica to replay everything the primary has written so
// far: call it after a change is committed and before the caches it affects are dropped.
// If the primary cannot say, reads go to the primary until a later Require succeeds.
func (r *Reads) Require(ctx context.Context) {
	if r.replica == nil {
		return
	}
	// The insert position is at or past the end of every committed transaction's commit
	// record, even with synchronous_commit off, when the write position may lag behind it.
	var lsn int64
	if err := r.primary.QueryRow(ctx, `SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint`).Scan(&lsn); err != nil {
		r.log.Warn("replica: primary's WAL position unknown; reading from the primary", slog.Any("err", err))
		r.want.Store(math.MaxInt64)
		return
	}
	// The insert position may point past the header of a new WAL page, where the replica's
	// replay position (the end of the last record) never points. A commit record is longer
	// than a page header, so a replica within one header of lsn has replayed the commit.
	lsn -= walPageHeaderSize
	for {
		cur := r.want.Load()
		if (cur != math.MaxInt64 && cur >= lsn) || r.want.CompareAndSwap(cur, lsn) {
			return
		}
	}
}

// Run asks the replica for its position every interval until ctx ends, so that reads
// notice a replica that stopped or came back.
func (r *Reads) Run(ctx context.Context, interval time.Duration) {
	if r.replica == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r.check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check asks the replica how far it has replayed.
func (r *Reads) check(parent context.Context) {
	r.checked.Store(time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(parent, time.Second)
	defer cancel()
	var lsn *int64 // NULL when the server is not a standby
	err := r.replica.QueryRow(ctx, `SELECT (pg_last_wal_replay_lsn() - '0/0')::bigint`).Scan(&lsn)
	switch {
	case err != nil && parent.Err() != nil:
		// The caller's request ended, not the replica: what was known stands.
	case err != nil:
		r.seen.Store(-1)
		if r.state.Swap(replicaUnreachable) != replicaUnreachable {
			r.log.Warn("replica unreachable; reading from the primary", slog.Any("err", err))
		}
	case lsn == nil:
		r.seen.Store(-1)
		if r.state.Swap(replicaNotStandby) != replicaNotStandby {
			r.log.Warn("replica is not a standby (it replays no WAL); reading from the primary")
		}
	default:
		r.seen.Store(*lsn)
		if r.state.Swap(replicaInUse) != replicaInUse {
			r.log.Info("replica in use for public reads")
		}
	}
}

// Lag returns how many bytes of WAL the replica has still to replay to reach the last
// Require, and whether it is reachable at all (for the health check).
func (r *Reads) Lag() (bytes int64, reachable bool) {
	seen, want := r.seen.Load(), r.want.Load()
	if seen < 0 {
		return 0, false
	}
	if want == math.MaxInt64 || want <= seen {
		return 0, true
	}
	return want - seen, true
}

// HasReplica reports whether reads may go to a replica at all.
func (r *Reads) HasReplica() bool { return r.replica != nil }

// Replica reports whether the next read goes to the replica: whether it has replayed all
// that is required, asking it when it was behind at the last check and that check is old
// enough.
func (r *Reads) Replica(ctx context.Context) bool {
	if r.replica == nil {
		return false
	}
	want := r.want.Load()
	if r.seen.Load() >= want {
		return true
	}
	if want == math.MaxInt64 {
		return false
	}
	last := r.checked.Load()
	if time.Since(time.Unix(0, last)) < checkEvery || !r.checked.CompareAndSwap(last, time.Now().UnixNano()) {
		return false
	}
	r.check(ctx)
	return r.seen.Load() >= want
}

// Exec runs sql where reads go now (see Reads); a write there fails on a replica.
func (r *Reads) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return read(ctx, r, func(p *pgxpool.Pool) (pgconn.CommandTag, error) { return p.Exec(ctx, sql, args...) })
}

// Query runs sql where reads go now (see Reads).
func (r *Reads) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return read(ctx, r, func(p *pgxpool.Pool) (pgx.Rows, error) { return p.Query(ctx, sql, args...) })
}

// QueryRow runs sql where reads go now (see Reads).
func (r *Reads) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if !r.Replica(ctx) {
		return r.primary.QueryRow(ctx, sql, args...)
	}
	return &replicaRow{reads: r, ctx: ctx, sql: sql, args: args, row: r.replica.QueryRow(ctx, sql, args...)}
}

// Begin starts a transaction where reads go now (see Reads).
func (r *Reads) Begin(ctx context.Context) (pgx.Tx, error) {
	return read(ctx, r, func(p *pgxpool.Pool) (pgx.Tx, error) { return p.Begin(ctx) })
}

// read runs do on the pool reads go to now, and again on the primary if the replica
// failed.
func read[T any](ctx context.Context, r *Reads, do func(*pgxpool.Pool) (T, error)) (T, error) {
	if !r.Replica(ctx) {
		return do(r.primary)
	}
	v, err := do(r.replica)
	if r.replicaFailed(ctx, err) {
		return do(r.primary)
	}
	return v, err
}

// replicaRow is a row read from the replica, read again from the primary if the replica
// failed (QueryRow's errors only show when the row is scanned).
type replicaRow struct {
	reads *Reads
	ctx   context.Context
	sql   string
	args  []any
	row   pgx.Row
}

func (rr *replicaRow) Scan(dest ...any) error {
	err := rr.row.Scan(dest...)
	if rr.reads.replicaFailed(rr.ctx, err) {
		return rr.reads.primary.QueryRow(rr.ctx, rr.sql, rr.args...).Scan(dest...)
	}
	return err
}

// replicaFailed reports whether err says the replica could not be reached or went away
// (rather than that the statement failed), and if so, leaves the replica until the next
// check finds it again: a read is safe to repeat on the primary, and the public need not
// see an error because one server of two stopped.
func (r *Reads) replicaFailed(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil || !connectionLost(err) {
		return false
	}
	r.seen.Store(-1)
	if r.state.Swap(replicaUnreachable) != replicaUnreachable {
		r.log.Warn("replica failed; reading from the primary", slog.Any("err", err))
	}
	return true
}

// connectionLost reports whether err is the loss of the connection or of the server, not
// an error in the statement.
func connectionLost(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr), pgconn.SafeToRetry(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57: operator intervention (a server shutting
		// down ends its sessions with 57P01), but for a statement cancelled (57014).
		return strings.HasPrefix(pgErr.Code, "08") || (strings.HasPrefix(pgErr.Code, "57") && pgErr.Code != "57014")
	}
	return false
}
