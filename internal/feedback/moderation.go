package feedback

import (
	"context"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
)

// Moderator is the administrator who acts, for answered_by and the audit log.
type Moderator struct {
	UserID, Email, ClientIP, RequestID string
}

func (m Moderator) event(action string, it *Item, details map[string]any) audit.Event {
	if details == nil {
		details = map[string]any{}
	}
	details["algorithm_id"] = it.AlgorithmID
	details["kind"] = it.Kind
	return audit.Event{ActorID: m.UserID, ActorEmail: m.Email, ClientIP: m.ClientIP, RequestID: m.RequestID,
		Action: action, Subject: "feedback:" + strconv.FormatInt(it.ID, 10), Details: details}
}

// PageSize is how many items a moderation page lists.
const PageSize = 50

// Filter selects items for moderation: Status "" means every state; Page counts from 1.
type Filter struct {
	Status string
	Page   int
}

// List returns one page of items, newest first, and whether older ones follow.
func (s *Store) List(ctx context.Context, f Filter) ([]*Item, bool, error) {
	page := max(f.Page, 1)
	rows, err := s.db.Query(ctx, `SELECT `+itemColumns+itemFrom+`
		WHERE ($1 = '' OR f.status = $1)
		ORDER BY f.created_at DESC, f.id DESC
		LIMIT $2 OFFSET $3`, f.Status, PageSize+1, (page-1)*PageSize)
	if err != nil {
		return nil, false, fmt.Errorf("feedback: list: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Item, error) { return scanItem(row) })
	if err != nil {
		return nil, false, fmt.Errorf("feedback: list: %w", err)
	}
	if len(items) > PageSize {
		return items[:PageSize], true, nil
	}
	return items, false, nil
}

// Counts returns how many items each state holds.
func (s *Store) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.Query(ctx, `SELECT status, count(*) FROM feedback GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("feedback: counts: %w", err)
	}
	out := map[string]int{}
	var status string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error { out[status] = n; return nil })
	return out, err
}

// Item returns one item; NotFound when there is none.
func (s *Store) Item(ctx context.Context, id int64) (*Item, error) {
	return scanItem(s.db.QueryRow(ctx, `SELECT `+itemColumns+itemFrom+`WHERE f.id = $1`, id))
}

// Published returns the questions and answers shown under an entry's fact sheet, the most
// recently answered first.
func (s *Store) Published(ctx context.Context, algorithmID string) ([]QA, error) {
	rows, err := s.db.Query(ctx, `SELECT id, kind, body, answer, lang, created_at, answered_at
		FROM feedback WHERE algorithm_id = $1 AND public
		ORDER BY answered_at DESC, id DESC`, algorithmID)
	if err != nil {
		return nil, fmt.Errorf("feedback: published: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (QA, error) {
		var q QA
		return q, row.Scan(&q.ID, &q.Kind, &q.Question, &q.Answer, &q.Lang, &q.AskedAt, &q.AnsweredAt)
	})
}

// Answer records the data office's answer to item id and shows it under the fact sheet or not,
// as public says, in one transaction. When the answer text is new and the citizen left an
// address, it is mailed to them. Invalid when the answer is empty or too long; NotFound when
// there is no such item.
func (s *Store) Answer(ctx context.Context, id int64, answer string, public bool, by Moderator) error {
	answer = normalise(answer)
	switch n := utf8.RuneCountInString(answer); {
	case n == 0:
		return apperr.InvalidFields("Please correct the errors below.", map[string]string{"answer": "Write an answer."})
	case n > MaxAnswer:
		return apperr.InvalidFields("Please correct the errors below.", map[string]string{"answer": "Use at most 5000 characters."})
	}
	// The entry, for the mail, is read before the transaction, so that the step holding the
	// row lock needs no second connection. An item never changes entry or address.
	pre, err := s.Item(ctx, id)
	if err != nil {
		return fmt.Errorf("feedback: answer %d: %w", id, err)
	}
	var entry *Entry
	if pre.Email != "" {
		if entry, err = s.entryOf(ctx, pre.AlgorithmID); err != nil {
			return err
		}
	}
	return s.moderate(ctx, id, func(tx pgx.Tx, it *Item) error {
		changed := answer != it.Answer
		if !changed && public == it.Public {
			return nil
		}
		status := StatusAnswered
		if public {
			status = StatusPublished
		}
		if _, err := tx.Exec(ctx, `UPDATE feedback SET answer = $2, status = $3, public = $4,
			answered_by = CASE WHEN $5 THEN $6::uuid ELSE answered_by END,
			answered_at = CASE WHEN $5 THEN now() ELSE answered_at END
			WHERE id = $1`, id, answer, status, public, changed, by.UserID); err != nil {
			return err
		}
		if changed {
			if err := audit.Record(ctx, tx, by.event(AuditAnswered, it, map[string]any{"public": public})); err != nil {
				return err
			}
		}
		if public != it.Public {
			if err := audit.Record(ctx, tx, by.event(publicAction(public), it, nil)); err != nil {
				return err
			}
		}
		if changed && entry != nil {
			it.Answer = answer
			return s.mailAnswer(ctx, tx, entry, it)
		}
		return nil
	})
}

// SetPublic shows an answered item under the fact sheet, or takes it away. Invalid when the
// item has no answer yet.
func (s *Store) SetPublic(ctx context.Context, id int64, public bool, by Moderator) error {
	return s.moderate(ctx, id, func(tx pgx.Tx, it *Item) error {
		if it.Public == public {
			return nil
		}
		if it.Answer == "" {
			return apperr.InvalidFields("Please correct the errors below.",
				map[string]string{"answer": "Answer the message before publishing it."})
		}
		status := StatusAnswered
		if public {
			status = StatusPublished
		}
		if _, err := tx.Exec(ctx, `UPDATE feedback SET status = $2, public = $3 WHERE id = $1`, id, status, public); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event(publicAction(public), it, nil))
	})
}

// Reject marks an item as spam or abuse, taking it off the fact sheet if it was there.
func (s *Store) Reject(ctx context.Context, id int64, by Moderator) error {
	return s.moderate(ctx, id, func(tx pgx.Tx, it *Item) error {
		if it.Status == StatusRejected {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE feedback SET status = 'rejected', public = false WHERE id = $1`, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event(AuditRejected, it, map[string]any{"was": it.Status}))
	})
}

func publicAction(public bool) string {
	if public {
		return AuditPublished
	}
	return AuditUnpublished
}

// moderate runs one moderation step on item id, locked, in one transaction. After the commit,
// when the item was or is public, Changed drops the entry's cached fact sheet.
func (s *Store) moderate(ctx context.Context, id int64, step func(pgx.Tx, *Item) error) error {
	var it *Item
	var nowPublic bool
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var err error
		if it, err = scanItem(tx.QueryRow(ctx, `SELECT `+itemColumns+itemFrom+`WHERE f.id = $1 FOR UPDATE OF f`, id)); err != nil {
			return err
		}
		if err := step(tx, it); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT public FROM feedback WHERE id = $1`, id).Scan(&nowPublic)
	})
	if err != nil {
		return fmt.Errorf("feedback: moderate %d: %w", id, err)
	}
	if (it.Public || nowPublic) && s.Changed != nil {
		s.Changed(ctx, it.AlgorithmID)
	}
	return nil
}

// entryOf returns an item's entry with its latest published revision, even if the entry
// was unpublished since the citizen wrote: they still get their answer.
func (s *Store) entryOf(ctx context.Context, algorithmID string) (*Entry, error) {
	alg, err := s.algs.Algorithm(ctx, algorithmID)
	if err != nil {
		return nil, err
	}
	rev, err := s.algs.LatestPublished(ctx, alg.ID)
	if err != nil {
		return nil, err
	}
	return &Entry{Algorithm: alg, Latest: rev}, nil
}
