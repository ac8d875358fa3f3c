package review

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/notify"
)

// Notifications are queued in the outbox inside the step's transaction, so that a mail is
// sent if and only if the step committed. They are in English and Catalan: staff mail is
// short and links to the page in their own language.

func (s *Service) revisionName(l *algorithms.Locked) string {
	name, _ := l.Sheet.Name.In(l.Sheet.Lang)
	return name
}

// notifyReviewers tells every committee member without a conflict of interest that a
// revision waits for them.
func (s *Service) notifyReviewers(ctx context.Context, tx pgx.Tx, l *algorithms.Locked, round int) error {
	reviewers, err := s.users.WithAnyRole(ctx, auth.RoleReviewer, auth.RoleExpert)
	if err != nil {
		return err
	}
	route := l.Route()
	body := fmt.Sprintf("%q (revision %d, round %d) waits for the ethics committee.\nRisk: %s, impact level %s. It needs %d approval(s)%s.\n\n%s/review/%s\n",
		s.revisionName(l), l.Number, round, orDash(l.Assessment.Tier), orDash(l.Assessment.LevelName()), route.Approvals,
		map[bool]string{true: ", one by an external expert", false: ""}[route.ExpertRequired], s.baseURL, l.ID)
	for _, u := range reviewers {
		if (Actor{UserID: u.ID}).relation(l).Conflicted() {
			continue
		}
		if err := notify.Enqueue(ctx, tx, notify.Message{Kind: "review_waiting", To: u.Email,
			Subject: "To review: " + oneLine(s.revisionName(l)), Body: body}); err != nil {
			return err
		}
	}
	return nil
}

// notifyOwners tells the entry's owners about a comment or a decision.
func (s *Service) notifyOwners(ctx context.Context, tx pgx.Tx, l *algorithms.Locked, kind, subject, text string) error {
	owners, err := s.users.ByIDs(ctx, l.Owners)
	if err != nil {
		return err
	}
	body := fmt.Sprintf("%s: %q (revision %d).\n\n%s\n\n%s/workspace/%s\n", subject, s.revisionName(l), l.Number, text, s.baseURL, l.AlgorithmID)
	for _, u := range owners {
		if err := notify.Enqueue(ctx, tx, notify.Message{Kind: kind, To: u.Email,
			Subject: subject + ": " + oneLine(s.revisionName(l)), Body: body}); err != nil {
			return err
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
