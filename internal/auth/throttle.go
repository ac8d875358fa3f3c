package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Throttling of failed sign-ins (wrong password or wrong second-factor code): at most
// AccountFailures per account and AddressFailures per client address within FailureWindow.
// Counted in PostgreSQL so that every instance behind a load balancer sees the same count.
const (
	AccountFailures = 5
	AddressFailures = 20
	FailureWindow   = 15 * time.Minute
)

// throttled returns how long the caller must wait before another attempt for email from ip,
// or 0. It takes a transaction-scoped lock on the account, so parallel guesses queue up.
func throttled(ctx context.Context, tx pgx.Tx, email, ip string) (time.Duration, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(lower($1), 7))`, email); err != nil {
		return 0, fmt.Errorf("auth: lock account: %w", err)
	}
	var wait time.Duration
	for _, q := range []struct {
		column string
		value  string
		limit  int
	}{{"email", email, AccountFailures}, {"client_ip", ip, AddressFailures}} {
		var secs float64
		err := tx.QueryRow(ctx, `
			SELECT COALESCE(EXTRACT(EPOCH FROM (failed_at + make_interval(secs => $3)) - now()), 0)
			FROM login_failures
			WHERE `+q.column+` = $1 AND failed_at > now() - make_interval(secs => $3)
			ORDER BY failed_at DESC OFFSET $2 - 1 LIMIT 1`, q.value, q.limit, FailureWindow.Seconds()).Scan(&secs)
		if err == pgx.ErrNoRows {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("auth: count failures: %w", err)
		}
		if d := time.Duration(secs * float64(time.Second)); d > wait {
			wait = d
		}
	}
	return wait, nil
}

func recordFailure(ctx context.Context, tx pgx.Tx, email, ip string) error {
	_, err := tx.Exec(ctx, `INSERT INTO login_failures (email, client_ip) VALUES ($1, $2)`, email, ip)
	return err
}

func clearFailures(ctx context.Context, tx pgx.Tx, email string) error {
	_, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE email = $1 OR failed_at < now() - interval '1 day'`, email)
	return err
}
