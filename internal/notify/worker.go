package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	defaultInterval    = 5 * time.Second
	defaultMaxAttempts = 8
	batchSize          = 20
	// sendTimeout bounds one delivery, so that a stuck server cannot hold a batch's row
	// locks for long.
	sendTimeout = time.Minute
	// recordTimeout bounds each write of an outcome, which outlives the caller's context.
	recordTimeout = 30 * time.Second
	maxErrorLen   = 2000
)

// Worker delivers the outbox. Any number of workers, in one process or in several instances
// of the registry, may run on one database: each message is claimed by one of them at a time.
type Worker struct {
	DB     *pgxpool.Pool
	Sender Sender
	Log    *slog.Logger // slog.Default() when nil
	// Interval is the pause between rounds when the outbox had nothing more to send;
	// 5 s when zero.
	Interval time.Duration
	// MaxAttempts is how many failed deliveries a message gets before it is left in the
	// outbox, with its last error, for a person to look at; 8 when zero.
	MaxAttempts int
}

// Run delivers pending messages every Interval until ctx is done. Errors are logged.
func (w *Worker) Run(ctx context.Context) {
	interval := w.Interval
	if interval <= 0 {
		interval = defaultInterval
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		claimed, _, err := w.deliver(ctx)
		if err != nil && ctx.Err() == nil {
			w.log().ErrorContext(ctx, "notify: delivering the outbox", "err", err)
		}
		if err == nil && claimed == batchSize {
			timer.Reset(0) // a full batch: more may be waiting
		} else {
			timer.Reset(interval)
		}
	}
}

// DeliverPending sends up to one batch of due messages and records each outcome: sent, or
// one more failed attempt with its error and a retry after attempts² minutes. It returns how
// many were sent; err is about the database only, a failed delivery is not an error here.
func (w *Worker) DeliverPending(ctx context.Context) (sent int, err error) {
	_, sent, err = w.deliver(ctx)
	return sent, err
}

type pending struct {
	id int64
	Message
}

// deliver claims a batch with FOR UPDATE SKIP LOCKED and keeps the row locks until every
// outcome is committed, so that another worker neither sends these messages again meanwhile
// nor waits for them.
func (w *Worker) deliver(ctx context.Context) (claimed, sent int, err error) {
	if w.DB == nil || w.Sender == nil {
		return 0, 0, errors.New("notify: a Worker needs a DB and a Sender")
	}
	maxAttempts := w.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = defaultMaxAttempts
	}
	tx, err := w.DB.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("notify: begin: %w", err)
	}
	defer func() {
		rctx, cancel := detached(ctx)
		defer cancel()
		_ = tx.Rollback(rctx) // a no-op after Commit
	}()

	rows, err := tx.Query(ctx, `
		SELECT id, kind, recipient, subject, body, COALESCE(dedupe_key, '')
		FROM outbox
		WHERE sent_at IS NULL AND not_before <= now() AND attempts < $1
		ORDER BY not_before, id
		LIMIT $2
		FOR UPDATE SKIP LOCKED`, maxAttempts, batchSize)
	if err != nil {
		return 0, 0, fmt.Errorf("notify: claim: %w", err)
	}
	batch, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (pending, error) {
		var p pending
		err := row.Scan(&p.id, &p.Kind, &p.To, &p.Subject, &p.Body, &p.DedupeKey)
		return p, err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("notify: claim: %w", err)
	}
	if len(batch) == 0 {
		return 0, 0, nil
	}

	// From here on a mail may have left: record it even if ctx is cancelled meanwhile, or
	// it would go out again.
	for _, p := range batch {
		if ctx.Err() != nil {
			break // the rest stay pending for the next round
		}
		sendCtx, cancel := context.WithTimeout(ctx, sendTimeout)
		sendErr := w.Sender.Send(sendCtx, p.Message)
		cancel()
		if sendErr != nil && ctx.Err() != nil {
			break // interrupted by shutdown, not the message's fault
		}
		if err := w.record(ctx, tx, p, sendErr, maxAttempts); err != nil {
			return len(batch), sent, err
		}
		if sendErr == nil {
			sent++
		}
	}
	cctx, cancel := detached(ctx)
	defer cancel()
	if err := tx.Commit(cctx); err != nil {
		return len(batch), 0, fmt.Errorf("notify: commit: %w", err)
	}
	return len(batch), sent, nil
}

// record writes the outcome of one delivery in tx.
func (w *Worker) record(ctx context.Context, tx pgx.Tx, p pending, sendErr error, maxAttempts int) error {
	rctx, cancel := detached(ctx)
	defer cancel()
	if sendErr == nil {
		if _, err := tx.Exec(rctx, `UPDATE outbox SET sent_at = clock_timestamp() WHERE id = $1`, p.id); err != nil {
			return fmt.Errorf("notify: mark %d sent: %w", p.id, err)
		}
		return nil
	}
	var attempts int
	var retryAt time.Time
	err := tx.QueryRow(rctx, `
		UPDATE outbox
		SET attempts = attempts + 1,
		    last_error = $2,
		    not_before = clock_timestamp() + make_interval(mins => (attempts + 1) * (attempts + 1))
		WHERE id = $1
		RETURNING attempts, not_before`,
		p.id, truncate(sendErr.Error(), maxErrorLen)).Scan(&attempts, &retryAt)
	if err != nil {
		return fmt.Errorf("notify: record failure of %d: %w", p.id, err)
	}
	attrs := []any{"id", p.id, "kind", p.Kind, "to", p.To, "attempts", attempts, "err", sendErr}
	if attempts >= maxAttempts {
		w.log().ErrorContext(ctx, "notify: giving up on a message; it stays in the outbox", attrs...)
	} else {
		w.log().WarnContext(ctx, "notify: delivery failed, will retry", append(attrs, "retry_at", retryAt)...)
	}
	return nil
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.Default()
	}
	return w.Log
}

// detached returns a context that outlives ctx's cancellation, bounded by recordTimeout.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
