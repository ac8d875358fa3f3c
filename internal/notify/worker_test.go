package notify_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/notify"
	"github.com/civictech/registry/internal/pgtest"
)

// syncBuffer is a bytes.Buffer safe for a logger used from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func jsonLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, nil))
}

// logLines decodes the JSON log lines whose msg starts with prefix.
func logLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewBufferString(log))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		lines = append(lines, line)
	}
	return lines
}

func enqueueN(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	for i := range n {
		m := message(fmt.Sprintf("person%d@example.org", i))
		m.Subject = fmt.Sprintf("Message %d", i)
		if err := notify.Enqueue(context.Background(), pool, m); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWorkerWithLogSender(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	enqueueN(t, pool, 2)

	var buf syncBuffer
	w := &notify.Worker{DB: pool, Sender: notify.LogSender{Log: jsonLogger(&buf)}}
	sent, err := w.DeliverPending(ctx)
	if err != nil || sent != 2 {
		t.Fatalf("DeliverPending = %d, %v; want 2, nil", sent, err)
	}
	var unsent int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&unsent); err != nil {
		t.Fatal(err)
	}
	if unsent != 0 {
		t.Errorf("%d messages still unsent", unsent)
	}

	lines := logLines(t, buf.String())
	if len(lines) != 2 {
		t.Fatalf("log has %d lines, want one per mail:\n%s", len(lines), buf.String())
	}
	for i, line := range lines {
		want := map[string]string{
			"to":      fmt.Sprintf("person%d@example.org", i),
			"subject": fmt.Sprintf("Message %d", i),
			"body":    message("").Body,
			"kind":    notify.KindDecision,
		}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("log line %d: %s = %v, want %q", i, k, line[k], v)
			}
		}
	}

	// Nothing is sent twice.
	if sent, err := w.DeliverPending(ctx); err != nil || sent != 0 {
		t.Fatalf("second DeliverPending = %d, %v; want 0, nil", sent, err)
	}
}

// failingSender fails every delivery and counts its calls.
type failingSender struct {
	mu    sync.Mutex
	calls int
}

func (s *failingSender) Send(context.Context, notify.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return errors.New("451 4.3.0 mailbox temporarily unavailable")
}

func (s *failingSender) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func TestWorkerRetriesWithBackoffThenGivesUp(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	enqueueN(t, pool, 1)

	var buf syncBuffer
	sender := &failingSender{}
	w := &notify.Worker{DB: pool, Sender: sender, Log: jsonLogger(&buf), MaxAttempts: 3}

	for attempt := 1; attempt <= 3; attempt++ {
		sent, err := w.DeliverPending(ctx)
		if err != nil || sent != 0 {
			t.Fatalf("attempt %d: DeliverPending = %d, %v; want 0, nil", attempt, sent, err)
		}
		var attempts int
		var lastError string
		var sentAt *time.Time
		var wait float64 // seconds from now to not_before
		err = pool.QueryRow(ctx, `
			SELECT attempts, last_error, sent_at, extract(epoch FROM not_before - clock_timestamp())::float8
			FROM outbox`).Scan(&attempts, &lastError, &sentAt, &wait)
		if err != nil {
			t.Fatal(err)
		}
		if attempts != attempt || lastError != "451 4.3.0 mailbox temporarily unavailable" || sentAt != nil {
			t.Fatalf("after attempt %d: attempts %d, last_error %q, sent_at %v", attempt, attempts, lastError, sentAt)
		}
		backoff := float64(attempt*attempt) * 60
		if wait > backoff || wait < backoff-10 {
			t.Errorf("after attempt %d: retry in %.1f s, want about %.0f s", attempt, wait, backoff)
		}

		// Not due yet: no new attempt.
		if _, err := w.DeliverPending(ctx); err != nil {
			t.Fatal(err)
		}
		if sender.Calls() != attempt {
			t.Fatalf("a message not due was tried: %d calls after %d attempts", sender.Calls(), attempt)
		}
		// Let the backoff pass.
		if _, err := pool.Exec(ctx, `UPDATE outbox SET not_before = now() - interval '1 second'`); err != nil {
			t.Fatal(err)
		}
	}

	// Three failures: the message stays, with its error, and is never tried again.
	for range 2 {
		if _, err := w.DeliverPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if sender.Calls() != 3 {
		t.Errorf("Sender called %d times, want MaxAttempts = 3", sender.Calls())
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND attempts = 3 AND last_error <> ''`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("the given-up message is not kept with its error")
	}

	var warns, errs int
	for _, line := range logLines(t, buf.String()) {
		switch line["level"] {
		case "WARN":
			warns++
		case "ERROR":
			errs++
		}
		if line["err"] != "451 4.3.0 mailbox temporarily unavailable" {
			t.Errorf("log line without the error: %v", line)
		}
	}
	if warns != 2 || errs != 1 {
		t.Errorf("logged %d warnings and %d errors, want 2 retries and 1 giving up:\n%s", warns, errs, buf.String())
	}
}

// recordingSender records every delivery; safe for concurrent use. Each Send takes a little
// time, so that concurrent workers' batches overlap.
type recordingSender struct {
	mu   sync.Mutex
	sent map[string]int // subject → deliveries
}

func (s *recordingSender) Send(ctx context.Context, m notify.Message) error {
	time.Sleep(2 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string]int{}
	}
	s.sent[m.Subject]++
	return nil
}

func TestWorkersNeverSendTwice(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	enqueueN(t, pool, 30)

	sender := &recordingSender{}
	var buf syncBuffer
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	totals := make([]int, 2)
	for i := range 2 {
		// Separate pools, as separate instances of the registry would have.
		w := &notify.Worker{DB: pool, Sender: sender, Log: jsonLogger(&buf)}
		if i == 1 {
			other, err := pgxpool.NewWithConfig(ctx, pool.Config())
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			w.DB = other
		}
		wg.Go(func() {
			// Until a round finds nothing: rows the other worker holds are skipped, not waited for.
			for {
				sent, err := w.DeliverPending(ctx)
				if err != nil {
					errs <- err
					return
				}
				totals[i] += sent
				if sent == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	if totals[0]+totals[1] != 30 {
		t.Errorf("workers report %d + %d sent, want 30 in all", totals[0], totals[1])
	}
	if len(sender.sent) != 30 {
		t.Errorf("%d distinct messages delivered, want 30", len(sender.sent))
	}
	for subject, n := range sender.sent {
		if n != 1 {
			t.Errorf("%q delivered %d times", subject, n)
		}
	}
	var unsent int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&unsent); err != nil {
		t.Fatal(err)
	}
	if unsent != 0 {
		t.Errorf("%d messages left unsent", unsent)
	}
	t.Logf("worker 1 sent %d, worker 2 sent %d", totals[0], totals[1])
}

func TestWorkerRun(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sender := &recordingSender{}
	w := &notify.Worker{DB: pool, Sender: sender, Interval: 20 * time.Millisecond}
	done := make(chan struct{})
	go func() {
		w.Run(ctx)
		close(done)
	}()

	// Enqueued while the worker runs: picked up by a later round. 25 is more than one batch.
	enqueueN(t, pool, 25)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var unsent int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&unsent); err != nil {
			t.Fatal(err)
		}
		if unsent == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still unsent after 10 s", unsent)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	sender.mu.Lock()
	defer sender.mu.Unlock()
	if len(sender.sent) != 25 {
		t.Errorf("%d messages delivered, want 25", len(sender.sent))
	}
}
