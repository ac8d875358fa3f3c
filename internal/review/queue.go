package review

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/algorithms"
)

// QueueItem is a waiting revision as the committee's queue shows it.
type QueueItem struct {
	algorithms.Waiting
	Approvals   int
	ExpertDone  bool
	ClaimedBy   string
	ClaimedByMe bool
	Conflict    bool // the viewer owns or edited it
	Waited      time.Duration
}

// QueueFilter narrows the queue. Zero values match everything.
type QueueFilter struct {
	Tier       string
	Level      int
	Department string // matched case-insensitively within any language
	Claim      string // "mine", "unclaimed" or ""
	Sort       string // "oldest" (default) or "newest"
}

// Queue lists the revisions waiting for the committee, for viewerID.
func (s *Service) Queue(ctx context.Context, viewerID string, f QueueFilter) ([]QueueItem, error) {
	waiting, err := s.store.WaitingForReview(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(waiting))
	for i, w := range waiting {
		ids[i] = w.RevisionID
	}
	progress, err := s.progress(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []QueueItem
	for _, w := range waiting {
		p := progress[w.RevisionID]
		item := QueueItem{Waiting: w, Approvals: p.approvals, ExpertDone: p.expert, ClaimedBy: p.claimedBy,
			ClaimedByMe: p.claimedByID == viewerID && viewerID != "",
			Conflict:    slices.Contains(w.Owners, viewerID) || slices.Contains(w.Editors, viewerID),
			Waited:      now.Sub(w.SubmittedAt)}
		if f.matches(item) {
			out = append(out, item)
		}
	}
	if f.Sort == "newest" {
		slices.Reverse(out)
	}
	return out, nil
}

func (f QueueFilter) matches(it QueueItem) bool {
	if f.Tier != "" && it.RiskTier != f.Tier {
		return false
	}
	if f.Level != 0 && it.Level != f.Level {
		return false
	}
	if f.Department != "" {
		found := false
		for _, v := range it.Department {
			if strings.Contains(strings.ToLower(v), strings.ToLower(f.Department)) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	switch f.Claim {
	case "mine":
		return it.ClaimedByMe
	case "unclaimed":
		return it.ClaimedBy == ""
	}
	return true
}

type progress struct {
	approvals              int
	expert                 bool
	claimedBy, claimedByID string
}

// progress returns the approvals of the current round and the claim of each revision.
func (s *Service) progress(ctx context.Context, ids []string) (map[string]progress, error) {
	out := map[string]progress{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `
		SELECT r.revision_id,
			(SELECT count(DISTINCT d.reviewer_id) FROM review_decisions d WHERE d.revision_id = r.revision_id
				AND d.round = r.round AND d.decision = 'approve'),
			(SELECT COALESCE(bool_or(d.as_expert), false) FROM review_decisions d WHERE d.revision_id = r.revision_id
				AND d.round = r.round AND d.decision = 'approve'),
			COALESCE(u.name, ''), COALESCE(c.reviewer_id::text, '')
		FROM (SELECT revision_id, max(round) AS round FROM review_rounds WHERE revision_id = ANY($1::uuid[]) GROUP BY revision_id) r
		LEFT JOIN review_claims c ON c.revision_id = r.revision_id
		LEFT JOIN users u ON u.id = c.reviewer_id`, ids)
	if err != nil {
		return nil, err
	}
	var id string
	var p progress
	_, err = pgx.ForEachRow(rows, []any{&id, &p.approvals, &p.expert, &p.claimedBy, &p.claimedByID}, func() error {
		out[id] = p
		return nil
	})
	return out, err
}
