package feedback_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/feedback"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/review"
	"github.com/civictech/registry/internal/server"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The tests run the whole application (server.New on httptest) on a fresh database, so that
// routes, roles, the fact-sheet cache and the outbox are the real ones.

const (
	password = "correct horse battery staple"
	slug     = "risc-caiguda-arbrat" // minimal risk: one approval publishes it
	question = "Quins criteris fa servir el model per decidir quins arbres s'inspeccionen primer?"
)

type app struct {
	t      *testing.T
	srv    *server.Server
	http   *httptest.Server
	pool   *pgxpool.Pool
	people map[string]*auth.User
}

func newApp(t *testing.T) *app {
	t.Helper()
	pool, _ := pgtest.NewDatabase(t)
	srv, err := server.New(server.Config{BaseURL: "http://registry.test", SessionKey: []byte(strings.Repeat("k", 64)), SecretsKey: []byte(strings.Repeat("s", 32))},
		pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	a := &app{t: t, srv: srv, http: hs, pool: pool, people: map[string]*auth.User{}}
	for email, roles := range map[string][]string{
		"author@example.org": {auth.RoleAuthor}, "reviewer@example.org": {auth.RoleReviewer},
		"admin@example.org": {auth.RoleAdmin}, "admin2@example.org": {auth.RoleAdmin, auth.RoleReviewer},
	} {
		u, err := srv.Auth().CreateUser(context.Background(), auth.NewUser{Email: email, Name: "Test " + email,
			Roles: roles, Password: password}, auth.Actor{Email: "test"})
		if err != nil {
			t.Fatal(err)
		}
		a.people[email] = u
	}
	return a
}

func (a *app) actor(email string) review.Actor {
	u := a.people[email]
	return review.Actor{UserID: u.ID, Email: u.Email, Roles: u.Roles}
}

// draft registers demo entry s as a complete draft owned by author@example.org.
func (a *app) draft(s string) *algorithms.Revision {
	a.t.Helper()
	entries, err := demo.Entries()
	if err != nil {
		a.t.Fatal(err)
	}
	for _, e := range entries {
		if e.Slug != s {
			continue
		}
		var sheet algorithms.FactSheet
		var answers risk.Answers
		if err := json.Unmarshal(e.FactSheet, &sheet); err != nil {
			a.t.Fatal(err)
		}
		if err := json.Unmarshal(e.Risk, &answers); err != nil {
			a.t.Fatal(err)
		}
		ctx := context.Background()
		by := algorithms.Actor{UserID: a.people["author@example.org"].ID, Email: "author@example.org"}
		_, rev, err := a.srv.Algorithms().CreateWithSlug(ctx, by, sheet, e.Slug)
		if err != nil {
			a.t.Fatal(err)
		}
		if rev, err = a.srv.Algorithms().SaveRisk(ctx, rev.ID, rev.Version, answers, by); err != nil {
			a.t.Fatal(err)
		}
		return rev
	}
	a.t.Fatalf("no demo entry %s", s)
	return nil
}

// publish registers demo entry s and publishes it through the workflow.
func (a *app) publish(s string) *algorithms.Revision {
	a.t.Helper()
	rev := a.draft(s)
	ctx := context.Background()
	if err := a.srv.Review().Submit(ctx, rev.ID, a.actor("author@example.org")); err != nil {
		a.t.Fatal(err)
	}
	out, err := a.srv.Review().Decide(ctx, rev.ID, review.Decision{Action: review.Approve, Rationale: "Clear."}, a.actor("reviewer@example.org"))
	if err != nil {
		a.t.Fatal(err)
	}
	if out.State != algorithms.StatePublished {
		a.t.Fatalf("%s not published after one approval: %s", s, out.State)
	}
	return rev
}

// store is a second feedback store on the same database, for tests of the rules themselves.
func (a *app) store() *feedback.Store {
	a.t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		a.t.Fatal(err)
	}
	return feedback.NewStore(a.pool, a.srv.Algorithms(), a.srv.Auth().Users, cat, []byte("another key"), "http://registry.test")
}

type client struct {
	t   *testing.T
	app *app
	c   *http.Client
}

// client is a browser that keeps cookies and does not follow redirects.
func (a *app) client() *client {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(a.http.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "en", Path: "/"}})
	return &client{t: a.t, app: a, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// staff is a client signed in as email.
func (a *app) staff(email string) *client {
	c := a.client()
	res := c.post("/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("sign-in of %s: %d", email, res.StatusCode)
	}
	return c
}

type response struct {
	*http.Response
	body string
}

func (c *client) do(req *http.Request) *response {
	c.t.Helper()
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{Response: res, body: string(b)}
}

func (c *client) get(path string) *response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.app.http.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) *response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.app.http.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func expectStatus(t *testing.T, res *response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body:\n%.800s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, res.body)
	}
}

func expectRedirect(t *testing.T, res *response, want string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		t.Fatalf("%s %s: status %d, want a redirect to %s; body:\n%.800s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, res.body)
	}
	if got := res.Header.Get("Location"); got != want {
		t.Fatalf("%s %s: redirect to %q, want %q", res.Request.Method, res.Request.URL.Path, got, want)
	}
}

func (a *app) count(sql string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// outbox returns the recipients of queued mail of kind.
func (a *app) outbox(kind string) []string {
	a.t.Helper()
	rows, _ := a.pool.Query(context.Background(), `SELECT recipient FROM outbox WHERE kind = $1 ORDER BY recipient`, kind)
	to, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		a.t.Fatal(err)
	}
	return to
}

func TestSubmissionValidation(t *testing.T) {
	cases := []struct {
		name   string
		sub    feedback.Submission
		fields []string
	}{
		{"valid question", feedback.Submission{Kind: "question", Body: "  Una pregunta prou llarga.  "}, nil},
		{"valid report with address", feedback.Submission{Kind: "error", Body: "La data és errònia.", Email: "ana@example.org"}, nil},
		{"no kind", feedback.Submission{Body: "Una pregunta prou llarga."}, []string{"kind"}},
		{"unknown kind", feedback.Submission{Kind: "praise", Body: "Una pregunta prou llarga."}, []string{"kind"}},
		{"too short once trimmed", feedback.Submission{Kind: "question", Body: "   curt    "}, []string{"body"}},
		{"too long", feedback.Submission{Kind: "question", Body: strings.Repeat("a", 5001)}, []string{"body"}},
		{"5000 with CRLF line breaks", feedback.Submission{Kind: "question", Body: strings.Repeat("abcd\r\n", 1000)}, nil},
		{"bad address", feedback.Submission{Kind: "question", Body: "Una pregunta prou llarga.", Email: "ana@"}, []string{"email"}},
		{"address with a display name", feedback.Submission{Kind: "question", Body: "Una pregunta prou llarga.", Email: "Ana <ana@example.org>"}, []string{"email"}},
		{"address with a line break", feedback.Submission{Kind: "question", Body: "Una pregunta prou llarga.", Email: "ana@example.org\nBcc: x@example.org"}, []string{"email"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.sub.Validate()
			var got []string
			if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid {
				for f := range e.Fields {
					got = append(got, f)
				}
			} else if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.fields) {
				t.Errorf("fields in error: %v, want %v", got, tc.fields)
			}
		})
	}
}

func TestLimitsPerAddressAndEntry(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.publish(slug)
	s := a.store()
	ctx := context.Background()
	alg, err := a.srv.Algorithms().BySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Entry(ctx, alg.ID)
	if err != nil {
		t.Fatal(err)
	}
	submit := func(ip string) error {
		_, err := s.Submit(ctx, e, feedback.Submission{Kind: "question", Body: question, Lang: i18n.Catalan, ClientIP: ip})
		return err
	}
	s.Limits = feedback.Limits{PerClient: []feedback.Limit{{Max: 1, Window: time.Hour}}, PerEntry: feedback.Limit{Max: 4, Window: time.Hour}}
	// One IPv6 client holds a whole /64: a second address in it is the same client.
	if err := submit("2001:db8:0:1::1"); err != nil {
		t.Fatal(err)
	}
	err = submit("2001:db8:0:1::ffff")
	if e, ok := apperr.As(err); !ok || e.Code != apperr.TooManyRequests || e.RetryAfter <= 59*time.Minute || e.RetryAfter > time.Hour {
		t.Fatalf("second message from the same /64: %v, want TooManyRequests retrying in about an hour", err)
	}
	if err := submit("2001:db8:0:2::1"); err != nil {
		t.Fatalf("another /64 is another client: %v", err)
	}
	// An IPv4 address and its IPv6-mapped form are one client.
	if err := submit("192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if err := submit("::ffff:192.0.2.7"); !apperr.Is(err, apperr.TooManyRequests) {
		t.Fatalf("mapped IPv4 address: %v, want TooManyRequests", err)
	}
	// The entry's limit holds whoever sends.
	if err := submit("192.0.2.8"); err != nil {
		t.Fatal(err)
	}
	if err := submit("192.0.2.9"); !apperr.Is(err, apperr.TooManyRequests) {
		t.Fatalf("fifth message to the entry within the hour: %v, want TooManyRequests", err)
	}
	if n := a.count(`SELECT count(*) FROM feedback`); n != 4 {
		t.Errorf("%d messages stored, want 4", n)
	}
}

// TestLimitHoldsUnderConcurrency sends many messages at once from one address: the
// transaction lock lets exactly the allowed number through.
func TestLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.publish(slug)
	s := a.store()
	ctx := context.Background()
	alg, _ := a.srv.Algorithms().BySlug(ctx, slug)
	e, err := s.Entry(ctx, alg.ID)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Submit(ctx, e, feedback.Submission{Kind: "question", Body: question, Lang: i18n.Catalan, ClientIP: "198.51.100.4"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case apperr.Is(err, apperr.TooManyRequests):
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 5 || refused != 7 {
		t.Errorf("%d accepted and %d refused, want 5 and 7 (DefaultLimits: 5 in 10 minutes)", ok, refused)
	}
}

func TestForgetClients(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.publish(slug)
	s := a.store()
	ctx := context.Background()
	alg, _ := a.srv.Algorithms().BySlug(ctx, slug)
	e, _ := s.Entry(ctx, alg.ID)
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		if _, err := s.Submit(ctx, e, feedback.Submission{Kind: "question", Body: question, Lang: i18n.Catalan, ClientIP: ip}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.pool.Exec(ctx, `UPDATE feedback SET created_at = now() - interval '25 hours' WHERE id = (SELECT min(id) FROM feedback)`); err != nil {
		t.Fatal(err)
	}
	n, err := s.ForgetClients(ctx)
	if err != nil || n != 1 {
		t.Fatalf("ForgetClients: %d, %v; want 1 (only the message older than a day)", n, err)
	}
	if got := a.count(`SELECT count(*) FROM feedback WHERE client_hash IS NULL`); got != 1 {
		t.Errorf("%d hashes erased, want 1", got)
	}
}

func TestUnknownItemIsNotFound(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	s := a.store()
	by := feedback.Moderator{UserID: a.people["admin@example.org"].ID, Email: "admin@example.org"}
	for name, err := range map[string]error{
		"answer":  s.Answer(context.Background(), 999, "Una resposta.", true, by),
		"publish": s.SetPublic(context.Background(), 999, true, by),
		"reject":  s.Reject(context.Background(), 999, by),
	} {
		if !apperr.Is(err, apperr.NotFound) {
			t.Errorf("%s of a missing item: %v, want NotFound", name, err)
		}
	}
	if _, err := s.Item(context.Background(), 999); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("Item(999): %v, want NotFound", err)
	}
}
