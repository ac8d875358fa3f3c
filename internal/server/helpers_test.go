package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/web"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testApp is the real application on a fresh database, served by httptest.
type testApp struct {
	t        *testing.T
	srv      *Server
	http     *httptest.Server
	pool     *pgxpool.Pool
	ownerURL string
}

const testPassword = "correct horse battery staple"

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	pool, ownerURL := pgtest.NewDatabase(t)
	return newTestAppOn(t, pool, ownerURL, nil)
}

// newTestAppOn is newTestApp on the database of pool, reading public pages from replica
// when it is not nil.
func newTestAppOn(t *testing.T, pool *pgxpool.Pool, ownerURL string, replica *pgxpool.Pool) *testApp {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := New(Config{BaseURL: "http://127.0.0.1", SessionKey: []byte(strings.Repeat("k", 64)), SecretsKey: []byte(strings.Repeat("s", 32)),
		ReadReplica: replica}, pool, log)
	if err != nil {
		t.Fatal(err)
	}
	// Served as `registry serve` serves it: each cached page in one write (web.WriteWhole).
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener = web.OneWriteListener(hs.Listener)
	hs.Config.ConnContext = web.OneWriteConnContext
	hs.Start()
	t.Cleanup(hs.Close)
	return &testApp{t: t, srv: srv, http: hs, pool: pool, ownerURL: ownerURL}
}

// user creates an account with testPassword.
func (a *testApp) user(email string, roles ...string) *auth.User {
	a.t.Helper()
	u, err := a.srv.Auth().CreateUser(context.Background(), auth.NewUser{Email: email, Name: "Test " + email,
		Roles: roles, Password: testPassword}, auth.Actor{Email: "test"})
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// client is a browser: it keeps cookies and does not follow redirects, so tests see them.
type client struct {
	t   *testing.T
	app *testApp
	c   *http.Client
}

func (a *testApp) client() *client {
	jar, _ := cookiejar.New(nil)
	// Pages in English, so that tests can match the catalogue's keys.
	u, _ := url.Parse(a.http.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "en", Path: "/"}})
	return &client{t: a.t, app: a, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
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

func (c *client) post(path string, form url.Values, headers ...string) *response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.app.http.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

func (c *client) login(email, password string) *response {
	c.t.Helper()
	return c.post("/login", url.Values{"email": {email}, "password": {password}})
}

// sessionCookie returns the current session cookie value.
func (c *client) sessionCookie() string {
	u, _ := url.Parse(c.app.http.URL)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == "session" {
			return ck.Value
		}
	}
	return ""
}

// withCookie returns a fresh client holding only the given session cookie: a copy of a
// cookie someone kept.
func (a *testApp) withCookie(value string) *client {
	c := a.client()
	u, _ := url.Parse(a.http.URL)
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: value, Path: "/"}})
	return c
}

func expectStatus(t *testing.T, res *response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body:\n%.600s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, res.body)
	}
}

func expectRedirect(t *testing.T, res *response, want string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		t.Fatalf("%s %s: status %d, want a redirect to %s; body:\n%.600s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, res.body)
	}
	if got := res.Header.Get("Location"); got != want {
		t.Fatalf("%s %s: redirect to %q, want %q", res.Request.Method, res.Request.URL.Path, got, want)
	}
}

// bareClient is a client with no language cookie.
func (a *testApp) bareClient() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: a.t, app: a, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}
