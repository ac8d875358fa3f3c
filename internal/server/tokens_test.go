package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/web"
)

var tokenInPage = regexp.MustCompile(`<code>(reg_[A-Za-z0-9_-]{43})</code>`)

// inEnglish makes the client ask for English pages, so that the checks on texts below hold
// whatever the Catalan catalogue says.
func (c *client) inEnglish() *client {
	u, _ := url.Parse(c.app.http.URL)
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "en", Path: "/"}})
	return c
}

// newToken creates a token for u through the service.
func (a *testApp) newToken(u *auth.User, name string) (string, *auth.Token) {
	a.t.Helper()
	plaintext, tok, err := a.srv.Auth().CreateToken(context.Background(), u.ID, name, auth.Actor{Email: "test"})
	if err != nil {
		a.t.Fatal(err)
	}
	return plaintext, tok
}

func TestTokenPageShowsTokenOnce(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	u := app.user("laia@example.org", auth.RoleAuthor)
	c := app.client().inEnglish()
	c.login("laia@example.org", testPassword)
	ctx := context.Background()

	res := c.get("/account/tokens")
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(res.body, `action="/account/tokens"`) || !strings.Contains(res.body, "You have no API tokens.") {
		t.Errorf("empty token page lacks the form or the empty list:\n%s", res.body)
	}

	// A bad name: 422, the summary linked to the field, the answer kept.
	for _, name := range []string{"", "   ", strings.Repeat("x", 101), "two\nlines"} {
		res = c.post("/account/tokens", url.Values{"name": {name}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		for _, want := range []string{`id="error-summary"`, `href="#f-name"`, `id="f-name-error"`, `aria-invalid="true"`} {
			if !strings.Contains(res.body, want) {
				t.Errorf("name %q: page lacks %s", name, want)
			}
		}
	}
	if !strings.Contains(res.body, `value="two`) {
		t.Error("the name typed is not kept after an error")
	}
	if tokens, _ := app.srv.Auth().ListTokens(ctx, u.ID); len(tokens) != 0 {
		t.Fatalf("a bad name created %d tokens", len(tokens))
	}

	res = c.post("/account/tokens", url.Values{"name": {"  CI pipeline  "}})
	expectStatus(t, res, http.StatusCreated)
	m := tokenInPage.FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no token on the page after creating one:\n%s", res.body)
	}
	token := m[1]
	if !strings.Contains(res.body, "it will not be shown again") {
		t.Error("no warning that the token is shown only once")
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("page with the token: Cache-Control %q, want no-store", cc)
	}

	// Only its hash is stored, and no column holds the token itself.
	var id, name, prefix string
	var hash []byte
	if err := app.pool.QueryRow(ctx, `SELECT id, name, prefix, token_hash FROM api_tokens WHERE user_id = $1`, u.ID).
		Scan(&id, &name, &prefix, &hash); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(token)); string(hash) != string(sum[:]) {
		t.Error("token_hash is not the SHA-256 of the token")
	}
	if name != "CI pipeline" || prefix != token[:8] {
		t.Errorf("stored name %q, prefix %q; want %q, %q", name, prefix, "CI pipeline", token[:8])
	}
	var copies int
	if err := app.pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens t WHERE strpos(row_to_json(t)::text, $1) > 0`,
		token[len("reg_"):]).Scan(&copies); err != nil {
		t.Fatal(err)
	}
	if copies != 0 {
		t.Error("the token is stored in plain text")
	}

	// The list shows the token's prefix from now on, never the token.
	res = c.get("/account/tokens")
	expectStatus(t, res, http.StatusOK)
	if strings.Contains(res.body, token) || tokenInPage.MatchString(res.body) {
		t.Error("the token is shown again on the list")
	}
	for _, want := range []string{"CI pipeline", "<code>" + token[:8] + "…</code>", "Never", `action="/account/tokens/` + id + `/revoke"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("list lacks %s:\n%s", want, res.body)
		}
	}
	if _, err := app.srv.Auth().UserForToken(ctx, token); err != nil {
		t.Fatalf("the new token does not work: %v", err)
	}

	expectRedirect(t, c.post("/account/tokens/"+id+"/revoke", nil), "/account/tokens")
	res = c.get("/account/tokens")
	for _, want := range []string{"The token was revoked.", "Revoked"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("list after revoking lacks %q", want)
		}
	}
	if strings.Contains(res.body, "/account/tokens/"+id+"/revoke") {
		t.Error("a revoked token still has a revoke button")
	}
	if _, err := app.srv.Auth().UserForToken(ctx, token); !apperr.Is(err, apperr.Unauthenticated) {
		t.Errorf("revoked token: err = %v, want Unauthenticated", err)
	}

	events, err := audit.List(ctx, app.pool, audit.Filter{Subject: "laia@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		if e.Action == audit.TokenCreated || e.Action == audit.TokenRevoked {
			got = append(got, e.Action+" "+e.Subject+" by "+e.ActorEmail)
		}
	}
	want := []string{"token_revoked laia@example.org: CI pipeline by laia@example.org",
		"token_created laia@example.org: CI pipeline by laia@example.org"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit events %q, want %q", got, want)
	}
}

func TestTokensAreTheOwnersOnly(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	laia := app.user("laia@example.org", auth.RoleAuthor)
	app.user("pere@example.org", auth.RoleAuthor)
	token, tok := app.newToken(laia, "laia's script")
	ctx := context.Background()

	pere := app.client().inEnglish()
	pere.login("pere@example.org", testPassword)
	if res := pere.get("/account/tokens"); strings.Contains(res.body, "laia's script") || strings.Contains(res.body, tok.ID) {
		t.Error("another account's token is listed")
	}
	expectStatus(t, pere.post("/account/tokens/"+tok.ID+"/revoke", nil), http.StatusNotFound)
	expectStatus(t, pere.post("/account/tokens/not-a-uuid/revoke", nil), http.StatusNotFound)
	if _, err := app.srv.Auth().UserForToken(ctx, token); err != nil {
		t.Fatalf("someone else's revoke ended the token: %v", err)
	}
	// Anonymous visitors reach nothing.
	expectRedirect(t, app.client().get("/account/tokens"), "/login?next=%2Faccount%2Ftokens")
	expectStatus(t, app.client().post("/account/tokens", url.Values{"name": {"x"}}), http.StatusUnauthorized)

	// Revoking twice is harmless and audited once.
	svc := app.srv.Auth()
	for range 2 {
		if err := svc.RevokeToken(ctx, laia.ID, tok.ID, auth.Actor{Email: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	if events, _ := audit.List(ctx, app.pool, audit.Filter{Action: audit.TokenRevoked}); len(events) != 1 {
		t.Errorf("%d token_revoked events, want 1", len(events))
	}
}

func TestTokenListOrder(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	u := app.user("laia@example.org", auth.RoleAuthor)
	ctx := context.Background()
	for _, name := range []string{"first", "second", "third"} {
		app.newToken(u, name)
	}
	ownerExec(t, app, `UPDATE api_tokens SET created_at = created_at - (CASE name WHEN 'first' THEN 3 WHEN 'second' THEN 2 ELSE 1 END) * interval '1 hour'`)
	tokens, err := app.srv.Auth().ListTokens(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.srv.Auth().RevokeToken(ctx, u.ID, tokens[0].ID, auth.Actor{Email: "test"}); err != nil {
		t.Fatal(err)
	}
	tokens, _ = app.srv.Auth().ListTokens(ctx, u.ID)
	var names []string
	for _, tok := range tokens {
		names = append(names, tok.Name)
	}
	if got, want := strings.Join(names, " "), "second first third"; got != want {
		t.Errorf("list order %q, want %q (active newest first, then revoked)", got, want)
	}
}

// TestLoadToken runs the middleware the server uses around a handler that says who the
// viewer is.
func TestLoadToken(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	laia := app.user("laia@example.org", auth.RoleAuthor)
	pere := app.user("pere@example.org", auth.RoleReviewer)
	valid, _ := app.newToken(laia, "valid")
	revoked, revokedTok := app.newToken(laia, "revoked")
	expired, expiredTok := app.newToken(laia, "expired")
	disabled, _ := app.newToken(pere, "of a disabled account")
	ctx := context.Background()
	svc := app.srv.Auth()
	if err := svc.RevokeToken(ctx, laia.ID, revokedTok.ID, auth.Actor{Email: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.pool.Exec(ctx, `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, expiredTok.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetDisabled(ctx, "pere@example.org", true, auth.Actor{Email: "test"}); err != nil {
		t.Fatal(err)
	}

	mw := auth.NewMiddleware(svc, app.srv.rd)
	h := mw.LoadToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := web.ViewerFrom(r.Context()); v != nil {
			io.WriteString(w, "viewer "+v.Email)
			return
		}
		io.WriteString(w, "anonymous")
	}))
	serve := func(path string, authorization ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		req = req.WithContext(web.WithLang(req.Context(), i18n.English))
		for _, a := range authorization {
			req.Header.Add("Authorization", a)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	const api = "/api/v1/algorithms"
	for _, tc := range []struct {
		name   string
		path   string
		header []string
		want   string // body for 200; "" for a 401
	}{
		{"no header", api, nil, "anonymous"},
		{"valid token", api, []string{"Bearer " + valid}, "viewer laia@example.org"},
		{"scheme in any case", api, []string{"bEARER " + valid}, "viewer laia@example.org"},
		{"Basic", api, []string{"Basic xyz"}, ""},
		{"Basic with a valid token", api, []string{"Basic " + valid}, ""},
		{"Bearer alone", api, []string{"Bearer"}, ""},
		{"Bearer and a space", api, []string{"Bearer "}, ""},
		{"empty header", api, []string{""}, ""},
		{"token without scheme", api, []string{valid}, ""},
		{"token with trailing text", api, []string{"Bearer " + valid + " extra"}, ""},
		{"two headers", api, []string{"Bearer " + valid, "Bearer " + valid}, ""},
		{"unknown token", api, []string{"Bearer reg_" + strings.Repeat("A", 43)}, ""},
		{"not a token at all", api, []string{"Bearer " + strings.Repeat("z", 5000)}, ""},
		{"revoked token", api, []string{"Bearer " + revoked}, ""},
		{"expired token", api, []string{"Bearer " + expired}, ""},
		{"disabled account", api, []string{"Bearer " + disabled}, ""},
		// Tokens are for the API: the pages ignore the header, so a proxy's Basic header does
		// not lock anyone out, and a token cannot act in the pages.
		{"page with Basic", "/account", []string{"Basic xyz"}, "anonymous"},
		{"page with a valid token", "/account/tokens", []string{"Bearer " + valid}, "anonymous"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(tc.path, tc.header...)
			if tc.want != "" {
				if rec.Code != http.StatusOK || rec.Body.String() != tc.want {
					t.Errorf("got %d %q, want 200 %q", rec.Code, rec.Body.String(), tc.want)
				}
				return
			}
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401; body %s", rec.Code, rec.Body.String())
			}
			if got := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", got)
			}
			var body struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("not the JSON error shape: %s", rec.Body.String())
			}
			if body.Error.Code != "unauthenticated" || body.Error.Message != "Invalid or revoked API token." {
				t.Errorf("error %+v", body.Error)
			}
		})
	}

	// Through the real server too: a token does not sign in to the pages, and a proxy's Basic
	// header does not disturb a signed-in browser.
	req, _ := http.NewRequest(http.MethodGet, app.http.URL+"/account", nil)
	req.Header.Set("Authorization", "Bearer "+valid)
	expectRedirect(t, app.client().do(req), "/login?next=%2Faccount")
	c := app.client()
	c.login("laia@example.org", testPassword)
	req, _ = http.NewRequest(http.MethodGet, app.http.URL+"/account", nil)
	req.Header.Set("Authorization", "Basic eHl6Onh5eg==")
	expectStatus(t, c.do(req), http.StatusOK)
}

func TestTokenLastUsed(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	u := app.user("laia@example.org", auth.RoleAuthor)
	token, tok := app.newToken(u, "script")
	ctx := context.Background()
	svc := app.srv.Auth()
	lastUsed := func() string {
		var s string
		if err := app.pool.QueryRow(ctx, `SELECT COALESCE(last_used_at::text, '') FROM api_tokens WHERE id = $1`, tok.ID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if lastUsed() != "" {
		t.Fatal("a new token has a last use")
	}
	if _, err := svc.UserForToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	first := lastUsed()
	if first == "" {
		t.Fatal("use not recorded")
	}
	if _, err := svc.UserForToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	if lastUsed() != first {
		t.Error("last use written again within a minute")
	}
	ownerExec(t, app, `UPDATE api_tokens SET last_used_at = now() - interval '2 minutes'`)
	aged := lastUsed()
	if _, err := svc.UserForToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	if lastUsed() == aged {
		t.Error("last use not updated after a minute")
	}
}

// TestTokenTablePrivileges checks that the default privileges of migration 001 reach the table
// of a later migration, and no further than the other tables.
func TestTokenTablePrivileges(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	var ok bool
	err := ownerConn(t, app).QueryRow(context.Background(),
		`SELECT has_table_privilege('registry_app', 'api_tokens', 'SELECT, INSERT, UPDATE, DELETE')
			AND NOT has_table_privilege('registry_app', 'api_tokens', 'TRUNCATE')`).Scan(&ok)
	if err != nil || !ok {
		t.Errorf("registry_app privileges on api_tokens: %v, %v", ok, err)
	}
}
