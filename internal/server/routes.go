package server

import (
	"io/fs"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/civictech/registry/internal/apidoc"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/opendata"
	"github.com/civictech/registry/internal/publish"
	"github.com/civictech/registry/internal/web"
	assets "github.com/civictech/registry/web"
)

// Handler returns every route of the register, grouped by who may call it.
func (s *Server) Handler() http.Handler {
	rd, h := s.rd, s.rd.Handle
	r := chi.NewRouter()
	// GetHead answers HEAD on every GET route (net/http then sends the headers only).
	r.Use(middleware.GetHead, web.RequestLog(s.log), rd.Recoverer, web.SecurityHeaders(s.cfg.Secure()),
		web.LimitBody(s.cfg.MaxBodyBytes), rd.CrossOrigin, web.StaffLang)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { rd.Error(w, r, apperr.New(apperr.NotFound, "")) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		rd.Error(w, r, apperr.New(apperr.BadRequest, "This address does not accept that method."))
	})

	// Anyone, no session needed.
	r.Get("/healthz", s.healthz)
	r.Get("/log/checkpoint", h(s.logs.CheckpointText))
	r.Get("/log/key", h(s.logs.Key))
	r.Get("/api/v1/log/records", h(s.logs.RecordsJSON))
	r.Get("/api/v1/log/proof/inclusion", h(s.logs.InclusionJSON))
	r.Get("/api/v1/log/proof/consistency", h(s.logs.ConsistencyJSON))
	static, _ := fs.Sub(assets.FS, "static")
	r.Handle("/static/*", http.StripPrefix("/static/", staticFiles(static)))
	r.Get("/", s.chooseLanguage)
	r.Get("/lang/{lang}", h(func(w http.ResponseWriter, r *http.Request) error {
		l, ok := i18n.Parse(chi.URLParam(r, "lang"))
		if !ok {
			return apperr.New(apperr.NotFound, "")
		}
		return s.login.SetLang(w, r, l)
	}))

	// The public register, in the language of its prefix. It reads no session: its pages are
	// the same for everyone, so they can be cached whole. Each language's addresses are
	// routes of their own rather than a {lang} parameter: matching a prefix pattern and a
	// sub-router cost a fact sheet served from the cache a few percent of its time.
	for _, l := range i18n.Langs {
		r.Group(func(r chi.Router) {
			r.Use(publicLang(l))
			p := "/" + string(l)
			r.Get(p, http.RedirectHandler(p+"/", http.StatusMovedPermanently).ServeHTTP)
			r.Get(p+"/", h(s.public.Home))
			r.Get(p+"/log", h(s.logs.Page))
			r.Get(p+"/algorithms", h(s.public.Index))
			r.Get(p+"/algorithms/{slug}", h(s.public.FactSheet))
			r.Get(p+"/algorithms/{slug}.md", h(s.public.Markdown))
			r.Get(p+"/algorithms/{slug}/versions/{n}", h(s.public.Version))
			// A citizen's question or error report: no session, so cross-site posts are
			// refused by the global cross-origin protection rather than a token.
			r.Get(p+"/algorithms/{slug}/feedback", h(s.feedbacks.FormPage))
			r.Post(p+"/algorithms/{slug}/feedback", h(s.feedbacks.Submit))
			r.Get(p+"/algorithms/{slug}/feedback/sent", h(s.feedbacks.Sent))
			r.Get(p+"/algorithms/{slug}/versions", h(s.public.Versions))
			r.Get(p+"/algorithms/{slug}/diff", h(s.public.Compare)) // the compare form, sent on to …/diff/{a}..{b}
			r.Get(p+"/algorithms/{slug}/diff/{range}", h(s.public.Diff))
			r.Get(p+"/algorithms/{slug}/feed.atom", h(s.public.EntryFeed))
			r.Get(p+"/feed.atom", h(s.public.RegisterFeed))
		})
	}

	// The public JSON API: anyone may read it, from any web page (CORS "*", no
	// credentials), without a session. Anonymous use is rate-limited per client address; a
	// valid Bearer token lifts the limit. Every address answers GET, HEAD and the preflight.
	r.Group(func(r chi.Router) {
		r.Use(publish.CORS, s.guard.LoadToken, s.apiLimit.Limit(rd))
		read := func(pattern string, fn web.HandlerFunc) {
			r.Get(pattern, h(fn))
			r.Head(pattern, h(fn))
			r.Options(pattern, publish.Preflight)
		}
		read("/api/v1/algorithms", s.publicAPI.List)
		read("/api/v1/algorithms/{slug}", s.publicAPI.Algorithm)
		read("/api/v1/algorithms/{slug}/versions", s.publicAPI.Versions)
		read("/api/v1/algorithms/{slug}/versions/{n}", s.publicAPI.Version)
		// Open data: every published entry, streamed (?versions=all for every revision).
		read("/api/v1/export.json", s.opendata.Export(opendata.JSON))
		read("/api/v1/export.ndjson", s.opendata.Export(opendata.NDJSON))
		read("/api/v1/export.csv", s.opendata.Export(opendata.CSV))
		read("/api/v1/export/eurocities.json", s.opendata.Export(opendata.Eurocities))
		read("/api/v1/datapackage.json", s.opendata.DataPackage)
		read("/api/v1/schema/eurocities.json", s.opendata.EurocitiesSchemaHandler)
		// Descriptions for machines: the API, the record, and the catalogue for open data portals.
		read(apidoc.OpenAPIPath, s.apidoc.OpenAPI)
		read(apidoc.RecordSchemaPath, s.apidoc.RecordSchema)
		read(apidoc.CatalogJSONLDPath, s.apidoc.CatalogJSONLD)
		read(apidoc.CatalogTurtlePath, s.apidoc.CatalogTurtle)
	})

	r.Group(func(r chi.Router) {
		r.Use(s.guard.LoadSession)
		r.Use(s.guard.LoadToken)

		// Signing in and out.
		r.Get("/login", h(s.login.LoginPage))
		r.Post("/login", h(s.login.Login))
		r.Get("/login/totp", h(s.login.TOTPPage))
		r.Post("/login/totp", h(s.login.TOTP))
		r.Post("/logout", h(s.login.Logout))

		// Any staff member.
		r.Group(func(r chi.Router) {
			r.Use(s.guard.RequireSignIn)
			r.Get("/account", h(s.login.Account))
			r.Post("/account/password", h(s.login.ChangePassword))
			r.Get("/account/totp", h(s.login.TOTPSetup))
			r.Post("/account/totp", h(s.login.EnableTOTP))
			r.Post("/account/totp/disable", h(s.login.DisableTOTP))
			r.Get("/account/tokens", h(s.login.Tokens))
			r.Post("/account/tokens", h(s.login.CreateToken))
			r.Post("/account/tokens/{id}/revoke", h(s.login.RevokeToken))
		})

		// Authors.
		r.Group(func(r chi.Router) {
			r.Use(s.guard.RequireRole(auth.RoleAuthor))
			r.Get("/workspace", h(s.workspace.List))
			r.Get("/workspace/new", h(s.workspace.NewPage))
			r.Post("/workspace/new", h(s.workspace.Create))
			r.Get("/workspace/{id}", h(s.workspace.Overview))
			r.Get("/workspace/{id}/edit/{section}", h(s.workspace.EditSection))
			r.Post("/workspace/{id}/edit/{section}", h(s.workspace.SaveSection))
			r.Get("/workspace/{id}/risk", h(s.workspace.RiskPage))
			r.Post("/workspace/{id}/risk", h(s.workspace.SaveRisk))
			r.Get("/workspace/{id}/preview", h(s.workspace.Preview))
			r.Post("/workspace/{id}/owners", h(s.workspace.AddOwner))
			r.Post("/workspace/{id}/revisions", h(s.workspace.StartRevision))
			r.Post("/workspace/{id}/submit", h(s.reviews.SubmitPost))
			r.Post("/workspace/{id}/withdraw", h(s.reviews.WithdrawPost))
			r.Post("/workspace/{id}/comment", h(s.reviews.AuthorCommentPost))
		})

		// Authors, through the JSON API (a Bearer token or a session); owners only.
		r.Group(func(r chi.Router) {
			r.Use(s.guard.RequireRole(auth.RoleAuthor))
			r.Post("/api/v1/algorithms", h(s.api.Create))
			r.Get("/api/v1/algorithms/{id}/draft", h(s.api.Draft))
			r.Put("/api/v1/algorithms/{id}/draft", h(s.api.UpdateDraft))
			r.Post("/api/v1/algorithms/{id}/submit", h(s.reviewAPI.Submit))
		})

		// The ethics committee.
		r.Group(func(r chi.Router) {
			r.Use(s.guard.RequireRole(auth.RoleReviewer, auth.RoleExpert))
			r.Get("/review", h(s.reviews.QueuePage))
			r.Get("/review/{revision}", h(s.reviews.Page))
			r.Post("/review/{revision}/claim", h(s.reviews.ClaimPost))
			r.Post("/review/{revision}/comment", h(s.reviews.CommentPost))
			r.Post("/review/{revision}/decision", h(s.reviews.DecisionPost))
			r.Get("/api/v1/review/queue", h(s.reviewAPI.Queue))
			r.Post("/api/v1/review/{revision}/decision", h(s.reviewAPI.Decide))
		})

		// The data office.
		r.Group(func(r chi.Router) {
			r.Use(s.guard.RequireRole(auth.RoleAdmin))
			r.Get("/admin", h(s.login.AdminHome))
			r.Get("/admin/users", h(s.login.UsersPage))
			r.Post("/admin/users", h(s.login.CreateUser))
			r.Get("/admin/users/{id}", h(s.login.UserPage))
			r.Post("/admin/users/{id}", h(s.login.UpdateUser))
			r.Get("/admin/departments", h(s.departments.ListPage))
			r.Post("/admin/departments", h(s.departments.Add))
			r.Get("/admin/departments/{id}", h(s.departments.Page))
			r.Post("/admin/departments/{id}", h(s.departments.Update))
			r.Get("/admin/security", h(s.login.SecurityPage))
			r.Post("/admin/security", h(s.login.SetSecurity))
			r.Get("/admin/audit", h(s.login.AuditLog))
			r.Get("/admin/entries", h(s.reviews.AdminEntries))
			r.Post("/admin/reviews/{revision}/reassign", h(s.reviews.ReassignPost))
			r.Post("/admin/algorithms/{id}/unpublish", h(s.reviews.UnpublishPost))
			r.Get("/admin/feedback", h(s.feedbacks.ModerationPage))
			r.Post("/admin/feedback/{id}", h(s.feedbacks.Moderate))
		})
	})
	return r
}

// publicLang sets the page language to l, the language of the address prefix.
func publicLang(l i18n.Lang) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, web.UseLang(r, l))
		})
	}
}

// chooseLanguage sends / to the home page in the visitor's language: the cookie, then
// Accept-Language, then Catalan.
func (s *Server) chooseLanguage(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept-Language, Cookie")
	http.Redirect(w, r, "/"+string(web.LangFrom(r.Context()))+"/", http.StatusFound)
}

// staticFiles serves the embedded static files; they change only with a new binary.
func staticFiles(fsys fs.FS) http.Handler {
	fileServer := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	})
}
