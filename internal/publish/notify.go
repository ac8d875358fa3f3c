package publish

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/database"
)

// cacheChannel is the PostgreSQL NOTIFY channel on which instances tell each other that an
// entry's published pages changed.
const cacheChannel = "registry_cache"

// Coherence keeps the page caches of several instances in step through LISTEN/NOTIFY: an
// instance that publishes, retires or unpublishes an entry notifies; every instance
// (itself included) drops that entry's pages when the notification arrives.
type Coherence struct {
	db     *pgxpool.Pool
	public *Public
	log    *slog.Logger
	// Reads, when the public side reads from a replica, is told before pages are dropped, so
	// that they are not rebuilt from a replica that has not replayed the change yet.
	Reads *database.Reads
}

// NewCoherence returns the cache coherence for public on db.
func NewCoherence(db *pgxpool.Pool, public *Public, log *slog.Logger) *Coherence {
	return &Coherence{db: db, public: public, log: log}
}

// Changed tells every instance that algorithmID's published pages changed (all pages when
// empty). It also invalidates locally at once, so that this instance's next request does
// not wait for the notification's round trip.
func (c *Coherence) Changed(ctx context.Context, algorithmID string) {
	c.invalidate(ctx, algorithmID)
	if _, err := c.db.Exec(ctx, `SELECT pg_notify($1, $2)`, cacheChannel, algorithmID); err != nil {
		c.log.Error("cache notify", slog.Any("err", err))
	}
}

// Listen receives notifications until ctx ends, reconnecting after errors. On every
// (re)connection it drops the whole cache, since notifications may have been missed.
func (c *Coherence) Listen(ctx context.Context) {
	for ctx.Err() == nil {
		if err := c.listenOnce(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("cache listener", slog.Any("err", err))
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
}

func (c *Coherence) listenOnce(ctx context.Context) error {
	conn, err := c.db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+cacheChannel); err != nil {
		return err
	}
	c.invalidate(ctx, "")
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			// The connection's state is unknown after an interrupted wait: do not return it
			// to the pool.
			conn.Conn().Close(context.Background())
			return err
		}
		c.invalidate(ctx, n.Payload)
	}
}

// invalidate drops algorithmID's pages (all pages when empty), first making the public
// side's reads wait for the replica to replay what the primary has committed so far.
func (c *Coherence) invalidate(ctx context.Context, algorithmID string) {
	if c.Reads != nil {
		c.Reads.Require(ctx)
	}
	c.public.Invalidate(algorithmID)
}
