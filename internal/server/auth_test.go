package server

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/civictech/registry/internal/audit"
	"github.com/civictech/registry/internal/auth"
)

func TestLoginAndLogout(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.user("laia@example.org", auth.RoleAuthor)
	c := app.client()

	expectRedirect(t, c.get("/account"), "/login?next=%2Faccount")
	res := c.login("laia@example.org", "wrong password here")
	expectStatus(t, res, http.StatusUnauthorized)
	if !strings.Contains(res.body, "Incorrect e-mail or password.") || !strings.Contains(res.body, `value="laia@example.org"`) {
		t.Errorf("failed sign-in page lacks the message or the e-mail typed:\n%s", res.body)
	}

	res = c.post("/login", url.Values{"email": {"laia@example.org"}, "password": {testPassword}, "next": {"/account"}})
	expectRedirect(t, res, "/account")
	cookie := c.sessionCookie()
	res = c.get("/account")
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(res.body, "Test laia@example.org") {
		t.Errorf("account page does not show the user's name")
	}

	expectRedirect(t, c.post("/logout", nil), "/login")
	// A copy of the cookie kept from before the logout is worthless now.
	expectRedirect(t, app.withCookie(cookie).get("/account"), "/login?next=%2Faccount")
	assertAudited(t, app, audit.Login, audit.LoginFailed, audit.Logout)
}

func TestLoginRefusesOffSiteNext(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.user("laia@example.org", auth.RoleAuthor)
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		c := app.client()
		res := c.post("/login", url.Values{"email": {"laia@example.org"}, "password": {testPassword}, "next": {next}})
		expectRedirect(t, res, "/workspace")
	}
}

func TestNewSessionIDAtLogin(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.user("a@example.org", auth.RoleAuthor)
	app.user("b@example.org", auth.RoleReviewer)
	c := app.client()
	c.login("a@example.org", testPassword)
	first := c.sessionCookie()
	c.login("b@example.org", testPassword)
	second := c.sessionCookie()
	if first == "" || first == second {
		t.Fatalf("session cookie not renewed at sign-in: %q then %q", first, second)
	}
	expectRedirect(t, app.withCookie(first).get("/account"), "/login?next=%2Faccount")
}

func TestDisableEndsSessions(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.user("laia@example.org", auth.RoleAuthor)
	c := app.client()
	c.login("laia@example.org", testPassword)
	expectStatus(t, c.get("/workspace"), http.StatusOK)
	if err := app.srv.Auth().SetDisabled(context.Background(), "laia@example.org", true, auth.Actor{Email: "test"}); err != nil {
		t.Fatal(err)
	}
	expectRedirect(t, c.get("/workspace"), "/login?next=%2Fworkspace")
	expectStatus(t, c.login("laia@example.org", testPassword), http.StatusUnauthorized)
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, sql string }{
		{"idle 31 minutes", `UPDATE sessions SET last_seen_at = now() - interval '31 minutes'`},
		{"signed in 13 hours ago", `UPDATE sessions SET created_at = now() - interval '13 hours'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestApp(t)
			app.user("laia@example.org", auth.RoleAuthor)
			c := app.client()
			c.login("laia@example.org", testPassword)
			expectStatus(t, c.get("/account"), http.StatusOK)
			ownerExec(t, app, tc.sql)
			expectRedirect(t, c.get("/account"), "/login?next=%2Faccount")
		})
	}
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	t.Run("per account", func(t *testing.T) {
		app := newTestApp(t)
		app.user("laia@example.org", auth.RoleAuthor)
		c := app.client()
		for i := 0; i < auth.AccountFailures; i++ {
			expectStatus(t, c.login("laia@example.org", "not the password"), http.StatusUnauthorized)
		}
		// Now even the right password is refused until the window passes.
		res := c.login("laia@example.org", testPassword)
		expectStatus(t, res, http.StatusTooManyRequests)
		retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
		if err != nil || retry <= 0 || retry > int(auth.FailureWindow.Seconds()) {
			t.Errorf("Retry-After = %q, want seconds within the window", res.Header.Get("Retry-After"))
		}
		// Once the failures age out of the window, the right password works again.
		ownerExec(t, app, `UPDATE login_failures SET failed_at = now() - interval '16 minutes'`)
		expectRedirect(t, c.login("laia@example.org", testPassword), "/workspace")
		assertAudited(t, app, audit.LoginThrottled)
	})
	t.Run("per address", func(t *testing.T) {
		app := newTestApp(t)
		app.user("laia@example.org", auth.RoleAuthor)
		c := app.client()
		for i := 0; i < auth.AddressFailures; i++ {
			c.login("guess"+strconv.Itoa(i)+"@example.org", "not the password")
		}
		expectStatus(t, c.login("laia@example.org", testPassword), http.StatusTooManyRequests)
	})
}

var secretInPage = regexp.MustCompile(`<code>([A-Z2-7]{16,})</code>`)

func TestTOTPEnrolmentAndLogin(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.user("nuria@example.org", auth.RoleReviewer)
	c := app.client()
	c.login("nuria@example.org", testPassword)

	page := c.get("/account/totp")
	expectStatus(t, page, http.StatusOK)
	m := secretInPage.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no key on the enrolment page:\n%s", page.body)
	}
	secret := m[1]
	expectStatus(t, c.post("/account/totp", url.Values{"code": {"000000"}}), http.StatusUnprocessableEntity)
	code, _ := totp.GenerateCode(secret, time.Now())
	expectRedirect(t, c.post("/account/totp", url.Values{"code": {code}}), "/account")
	c.post("/logout", nil)

	// Password alone no longer signs in: the second step is asked for.
	expectRedirect(t, c.login("nuria@example.org", testPassword), "/login/totp")
	expectRedirect(t, c.get("/review"), "/login?next=%2Freview")
	expectStatus(t, c.post("/login/totp", url.Values{"code": {"123456"}}), http.StatusUnprocessableEntity)
	// The code used at enrolment cannot be used again; the next one (clock drift allowed) can.
	expectStatus(t, c.post("/login/totp", url.Values{"code": {code}}), http.StatusUnprocessableEntity)
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	expectRedirect(t, c.post("/login/totp", url.Values{"code": {next}}), "/review")
	expectStatus(t, c.get("/review"), http.StatusOK)
}

func TestMFARequiredByRole(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.user("laia@example.org", auth.RoleAuthor)
	if err := app.srv.Auth().SetMFAPolicy(context.Background(), []string{auth.RoleAuthor}, auth.Actor{Email: "test"}); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.login("laia@example.org", testPassword)
	expectRedirect(t, c.get("/workspace"), "/account/totp")
	expectStatus(t, c.get("/account/totp"), http.StatusOK)
}

func TestRolesReachTheirPagesOnly(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	pages := map[string][]string{ // path → roles allowed
		"/workspace":    {auth.RoleAuthor},
		"/review":       {auth.RoleReviewer, auth.RoleExpert},
		"/admin":        {auth.RoleAdmin},
		"/admin/users":  {auth.RoleAdmin},
		"/admin/audit":  {auth.RoleAdmin},
		"/account":      auth.Roles,
		"/account/totp": auth.Roles,
	}
	for _, role := range auth.Roles {
		email := role + "@example.org"
		app.user(email, role)
		c := app.client()
		c.login(email, testPassword)
		for path, allowed := range pages {
			want := http.StatusForbidden
			for _, r := range allowed {
				if r == role {
					want = http.StatusOK
				}
			}
			if res := c.get(path); res.StatusCode != want {
				t.Errorf("%s GET %s: %d, want %d", role, path, res.StatusCode, want)
			}
		}
	}
	// Writes are guarded as well as pages.
	c := app.client()
	c.login("author@example.org", testPassword)
	expectStatus(t, c.post("/admin/users", url.Values{"email": {"x@example.org"}, "name": {"X"}, "roles": {"admin"}}), http.StatusForbidden)
	events, err := audit.List(context.Background(), app.pool, audit.Filter{Action: audit.Forbidden, Actor: "author@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 3 {
		t.Errorf("refusals audited: %d events, want one per refused request (≥3)", len(events))
	}
}

func TestAdminManagesAccounts(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.user("admin@example.org", auth.RoleAdmin)
	c := app.client()
	c.login("admin@example.org", testPassword)
	res := c.post("/admin/users", url.Values{"email": {"not-an-email"}, "name": {""}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	for _, want := range []string{`href="#f-email"`, `href="#f-name"`, `href="#f-roles"`, `value="not-an-email"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("invalid account form lacks %s", want)
		}
	}
	res = c.post("/admin/users", url.Values{"email": {"new@example.org"}, "name": {"New Person"}, "roles": {"reviewer", "expert"}})
	expectStatus(t, res, http.StatusCreated)
	u, err := app.srv.Auth().Users.ByEmail(context.Background(), "new@example.org")
	if err != nil || !u.Has(auth.RoleExpert) {
		t.Fatalf("created account: %+v, %v", u, err)
	}
	expectRedirect(t, c.post("/admin/users/"+u.ID, url.Values{"action": {"disable"}}), "/admin/users/"+u.ID)
	if u, _ = app.srv.Auth().Users.ByEmail(context.Background(), "new@example.org"); !u.Disabled {
		t.Error("account not disabled")
	}
	assertAudited(t, app, audit.UserCreated, audit.UserDisabled)
}

func TestCrossSiteWritesRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.user("laia@example.org", auth.RoleAuthor)
	c := app.client()
	form := url.Values{"email": {"laia@example.org"}, "password": {testPassword}}
	expectStatus(t, c.post("/login", form, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	expectStatus(t, c.post("/login", form, "Origin", "https://evil.example"), http.StatusForbidden)
	expectRedirect(t, c.post("/login", form, "Sec-Fetch-Site", "same-origin"), "/workspace")
	expectStatus(t, c.post("/logout", nil, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	expectStatus(t, c.get("/account"), http.StatusOK) // the forged logout did nothing
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	for _, path := range []string{"/ca/", "/login", "/healthz", "/static/site.css", "/no/such/page", "/api/v1/nothing"} {
		res := c.get(path)
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows unsafe-inline", path)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: missing nosniff or Referrer-Policy", path)
		}
	}
	if res := c.get("/ca/"); res.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
}

func TestErrorsAndLimits(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	res := c.get("/api/v1/nothing")
	expectStatus(t, res, http.StatusNotFound)
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || !strings.Contains(res.body, `"code":"not_found"`) {
		t.Errorf("API 404 is not the JSON error shape: %s", res.body)
	}
	res = c.get("/no/such/page")
	expectStatus(t, res, http.StatusNotFound)
	if !strings.Contains(res.body, "<h1>") {
		t.Error("HTML 404 is not a page")
	}
	big := url.Values{"email": {strings.Repeat("x", 3<<20)}}
	expectStatus(t, c.post("/login", big), http.StatusRequestEntityTooLarge)
}

func TestLanguageRedirect(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	for _, tc := range []struct{ accept, cookie, want string }{
		{"", "", "/ca/"},
		{"es-ES,es;q=0.9", "", "/es/"},
		{"en-GB,en;q=0.8", "", "/en/"},
		{"de-DE", "", "/ca/"},
		{"es", "en", "/en/"},
	} {
		req, _ := http.NewRequest(http.MethodGet, app.http.URL+"/", nil)
		if tc.accept != "" {
			req.Header.Set("Accept-Language", tc.accept)
		}
		if tc.cookie != "" {
			req.AddCookie(&http.Cookie{Name: "lang", Value: tc.cookie})
		}
		res := app.bareClient().do(req)
		if got := res.Header.Get("Location"); got != tc.want {
			t.Errorf("Accept-Language %q, cookie %q: redirect to %q, want %q", tc.accept, tc.cookie, got, tc.want)
		}
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.client().get("/healthz")
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(res.body, `"database":"ok"`) {
		t.Errorf("healthz body %s", res.body)
	}
}

func ownerExec(t *testing.T, app *testApp, sql string) {
	t.Helper()
	conn := ownerConn(t, app)
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

func assertAudited(t *testing.T, app *testApp, actions ...string) {
	t.Helper()
	for _, a := range actions {
		events, err := audit.List(context.Background(), app.pool, audit.Filter{Action: a})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			t.Errorf("no audit event %q", a)
		}
	}
}

// TestTOTPSecretsSealed: the database never holds a second-factor key in the clear, not in
// the account nor in the session during enrolment; keys stored in the clear by an older
// version keep working and are sealed at start-up; one account's sealed key copied onto
// another signs no one in.
func TestTOTPSecretsSealed(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	nuria := app.user("nuria@example.org", auth.RoleReviewer)
	c := app.client()
	c.login("nuria@example.org", testPassword)
	m := secretInPage.FindStringSubmatch(c.get("/account/totp").body)
	if m == nil {
		t.Fatal("no key on the enrolment page")
	}
	secret := m[1]
	var inSessions int
	if err := app.pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE position($1::bytea IN data) > 0`,
		[]byte(secret)).Scan(&inSessions); err != nil {
		t.Fatal(err)
	}
	if inSessions != 0 {
		t.Error("the key being enrolled is in the clear in the sessions table")
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	expectRedirect(t, c.post("/account/totp", url.Values{"code": {code}}), "/account")
	stored := func(id string) string {
		var s string
		if err := app.pool.QueryRow(ctx, `SELECT totp_secret FROM users WHERE id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	sealed := stored(nuria.ID)
	if !strings.HasPrefix(sealed, "v1:") || strings.Contains(sealed, secret) {
		t.Fatalf("stored %q: want it sealed", sealed)
	}

	// A key stored in the clear, as before sealing existed: it still signs in, and start-up
	// seals it.
	pau := app.user("pau@example.org", auth.RoleReviewer)
	const plain = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	if _, err := app.pool.Exec(ctx, `UPDATE users SET totp_secret = $2, totp_enabled_at = now() WHERE id = $1`, pau.ID, plain); err != nil {
		t.Fatal(err)
	}
	signIn := func(email, key string, at time.Time) *response {
		t.Helper()
		c := app.client()
		expectRedirect(t, c.login(email, testPassword), "/login/totp")
		code, _ := totp.GenerateCode(key, at)
		return c.post("/login/totp", url.Values{"code": {code}})
	}
	expectRedirect(t, signIn("pau@example.org", plain, time.Now()), "/review")
	if n, err := app.srv.Auth().SealStoredTOTP(ctx); err != nil || n != 1 {
		t.Fatalf("SealStoredTOTP: %d, %v; want 1 sealed", n, err)
	}
	if s := stored(pau.ID); !strings.HasPrefix(s, "v1:") || strings.Contains(s, plain) {
		t.Fatalf("after SealStoredTOTP: stored %q", s)
	}
	expectRedirect(t, signIn("pau@example.org", plain, time.Now().Add(30*time.Second)), "/review")

	// Nuria's sealed key copied onto Pau's account opens for no one there.
	if _, err := app.pool.Exec(ctx, `UPDATE users SET totp_secret = $2 WHERE id = $1`, pau.ID, sealed); err != nil {
		t.Fatal(err)
	}
	if res := signIn("pau@example.org", secret, time.Now().Add(60*time.Second)); res.StatusCode != http.StatusInternalServerError {
		t.Errorf("a key copied from another account: status %d, want 500 (and no session)", res.StatusCode)
	}
}
