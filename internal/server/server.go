// Package server assembles the HTTP application: middleware, handlers and the route table.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apidoc"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/departments"
	"github.com/civictech/registry/internal/feedback"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/opendata"
	"github.com/civictech/registry/internal/publish"
	"github.com/civictech/registry/internal/review"
	"github.com/civictech/registry/internal/tlog"
	"github.com/civictech/registry/internal/web"
)

// Config is what the server needs to know about its surroundings.
type Config struct {
	// BaseURL is the public address; an https:// one turns on Secure cookies and HSTS.
	BaseURL string
	// SessionKey signs session and flash cookies (32 bytes or more).
	SessionKey []byte
	// Publisher is who the open data catalogue names as the register's publisher and
	// contact; zero: apidoc.DefaultPublisher.
	Publisher apidoc.Publisher
	// SecretsKey seals the keys of second-factor apps in the database (32 bytes; see
	// auth.SecretBox). Unlike SessionKey, it cannot be replaced without losing them.
	SecretsKey []byte
	// MaxBodyBytes caps request bodies.
	MaxBodyBytes int64
	// PublicAPIRateLimit is how many requests a minute one client address may make to the
	// public JSON API without a token: 0 means publish.DefaultRateLimit, a negative number
	// no limit.
	PublicAPIRateLimit int
	// ReadReplica, when not nil, is a streaming replica (hot standby) of the database, for
	// the public side's reads: published pages, searches, the public API and the exports
	// (see database.Reads). Everything staff do reads and writes the primary.
	ReadReplica *pgxpool.Pool
	// LogKey signs the transparency log's checkpoints (a note signer key, tlog.GenerateKey);
	// empty: a key made up for this process, for tests.
	LogKey string
}

// Secure reports whether the register is served over HTTPS.
func (c Config) Secure() bool { return len(c.BaseURL) > 8 && c.BaseURL[:8] == "https://" }

// Server holds the application's parts.
type Server struct {
	cfg   Config
	db    *pgxpool.Pool
	reads *database.Reads
	log   *slog.Logger
	rd    *web.Renderer
	auth  *auth.Service
	guard *auth.Middleware
	login *auth.Handlers
	// algorithms keeps the register's entries; api serves them to authors as JSON.
	algorithms *algorithms.Store
	api        *algorithms.API
	workspace  *algorithms.Handlers
	pages      *publish.Pages
	review     *review.Service
	reviews    *review.Handlers
	public     *publish.Public
	coherence  *publish.Coherence
	// feedback keeps citizens' questions and error reports; feedbacks serves their form and
	// the moderation pages.
	feedback  *feedback.Store
	feedbacks *feedback.Handlers
	// publicAPI serves published entries as JSON to anyone, within apiLimit; reviewAPI
	// serves the workflow to the committee and the authors.
	publicAPI *publish.API
	apiLimit  *publish.RateLimiter
	reviewAPI *review.API
	// opendata serves the exports, their data package and the Eurocities schema to anyone.
	opendata *opendata.Handlers
	// depts keeps the council's departments; departments serves the data office's pages.
	depts       *departments.Store
	departments *departments.Handlers
	// apidoc serves the OpenAPI document, the record's JSON Schema and the DCAT catalogue.
	apidoc *apidoc.Handlers
	// tlog is the transparency log; logs serves it.
	tlog *tlog.Log
	logs *tlog.Handlers
}

// New builds the application on db. Templates are parsed here, so a broken one stops start-up.
func New(cfg Config, db *pgxpool.Pool, log *slog.Logger) (*Server, error) {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 2 << 20
	}
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	rd, err := web.NewRenderer(cat, log, cfg.SessionKey, cfg.Secure())
	if err != nil {
		return nil, err
	}
	svc := auth.NewService(db, cfg.SessionKey, cfg.Secure())
	if svc.Secrets, err = auth.NewSecretBox(cfg.SecretsKey); err != nil {
		return nil, err
	}
	defs, err := risk.Load()
	if err != nil {
		return nil, err
	}
	store := algorithms.NewStore(db, defs)
	pages := publish.NewPages(rd)
	reviewSvc := review.NewService(db, store, svc.Users, cfg.BaseURL)
	transparency, err := newLog(db, cfg)
	if err != nil {
		return nil, err
	}
	reviewSvc.Log = transparency
	reviews := review.NewHandlers(reviewSvc, rd, pages.Document)
	workspace := algorithms.NewHandlers(store, rd, pages.Preview)
	workspace.Feedback = reviews.Feedback
	depts := departments.NewStore(db)
	workspace.Departments = func(ctx context.Context, lang string) ([]string, error) {
		return depts.Names(ctx, i18n.Lang(lang))
	}
	store.Departments = depts
	// The public side reads through reads (the replica when there is one); it never writes.
	reads := database.NewReads(db, cfg.ReadReplica, log)
	publicStore := algorithms.NewStore(reads, defs)
	public := publish.NewPublic(rd, pages, publicStore, governance(reviewSvc))
	public.BaseURL = cfg.BaseURL // feeds need absolute links
	coherence := publish.NewCoherence(db, public, log)
	coherence.Reads = reads
	reviewSvc.Published = func(ctx context.Context, algorithmID, _ string) { coherence.Changed(ctx, algorithmID) }
	fb := feedback.NewStore(db, store, svc.Users, cat, cfg.SessionKey, cfg.BaseURL)
	fb.Changed = coherence.Changed
	public.QA = publishedQA(fb)
	public.Search = publish.NewIndex(reads)
	exports, err := opendata.NewHandlers(publicStore, log)
	if err != nil {
		return nil, err
	}
	if cfg.Publisher == (apidoc.Publisher{}) {
		cfg.Publisher = apidoc.DefaultPublisher
	}
	docs, err := apidoc.New(cfg.BaseURL, cfg.Publisher, publicStore)
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:   cfg,
		db:    db,
		reads: reads,
		log:   log,
		rd:    rd,
		auth:  svc,
		guard: auth.NewMiddleware(svc, rd),
		login: auth.NewHandlers(svc, rd),

		algorithms: store,
		api:        algorithms.NewAPI(store, rd),
		workspace:  workspace,
		pages:      pages,
		review:     reviewSvc,
		reviews:    reviews,
		public:     public,
		coherence:  coherence,
		feedback:   fb,
		feedbacks:  feedback.NewHandlers(fb, rd),
		publicAPI:  publish.NewAPI(publicStore, public.Search, rd),
		apiLimit:   apiLimiter(cfg.PublicAPIRateLimit),
		reviewAPI:  review.NewAPI(reviewSvc, rd),
		opendata:   exports,
		depts:      depts,
		departments: departments.NewHandlers(rd, depts, func(r *http.Request) departments.Actor {
			a := auth.ActorOf(r)
			return departments.Actor{ID: a.ID, Email: a.Email, ClientIP: a.ClientIP, RequestID: a.RequestID}
		}),
		apidoc: docs,
		tlog:   transparency,
		logs:   tlog.NewHandlers(transparency, rd),
	}, nil
}

// apiLimiter returns the public API's rate limiter for perMinute (see Config).
func apiLimiter(perMinute int) *publish.RateLimiter {
	switch {
	case perMinute < 0:
		return nil
	case perMinute == 0:
		perMinute = publish.DefaultRateLimit
	}
	return publish.NewRateLimiter(perMinute)
}

// Auth returns the account service (for the command line and tests).
func (s *Server) Auth() *auth.Service { return s.auth }

// RunCacheListener keeps this instance's page cache coherent with the others' publications
// until ctx ends.
func (s *Server) RunCacheListener(ctx context.Context) { s.coherence.Listen(ctx) }

// RunReplicaCheck asks the read replica, if there is one, how far it has replayed every
// second until ctx ends, so that public reads leave a replica that stopped and come back to
// it when it returns.
func (s *Server) RunReplicaCheck(ctx context.Context) { s.reads.Run(ctx, time.Second) }

// RunMaintenance deletes expired sessions and old failure counts, and erases the address
// hashes of feedback that no rate limit needs any more, every interval until ctx ends.
func (s *Server) RunMaintenance(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.auth.Cleanup(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("maintenance", slog.Any("err", err))
			}
			if _, err := s.feedback.ForgetClients(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("maintenance", slog.Any("err", err))
			}
		}
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Cache-Control", "no-store")
	if err := s.db.Ping(ctx); err != nil {
		s.log.Error("healthz", slog.Any("err", err))
		web.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
		return
	}
	status := map[string]any{"status": "ok", "database": "ok"}
	if s.reads.HasReplica() {
		// Public reads go to the primary while the replica is away, so it is reported, not
		// failed on.
		status["replica"] = "unreachable"
		if lag, reachable := s.reads.Lag(); reachable {
			status["replica"], status["replica_lag_bytes"] = "ok", lag
		}
	}
	web.WriteJSON(w, http.StatusOK, status)
}

// Algorithms returns the entries' store (for the command line and tests).
func (s *Server) Algorithms() *algorithms.Store { return s.algorithms }

// Departments returns the council's departments (for the command line and tests).
func (s *Server) Departments() *departments.Store { return s.depts }

// Review returns the review workflow (for the command line and tests).
func (s *Server) Review() *review.Service { return s.review }

// governance reads a published revision's review outcome for its fact sheet.
func governance(svc *review.Service) publish.GovernanceSource {
	return func(ctx context.Context, revisionID string) (publish.Governance, error) {
		p, err := svc.PublicationOf(ctx, revisionID)
		if err != nil {
			return publish.Governance{}, err
		}
		return publish.Governance{Decision: "approved", Date: p.PublishedAt.UTC().Format("2006-01-02"),
			Approvals: p.Approvals, Conditions: p.Conditions}, nil
	}
}

// publishedQA reads the questions and answers shown under an entry's fact sheet.
func publishedQA(fb *feedback.Store) func(ctx context.Context, algorithmID string) ([]publish.QA, error) {
	return func(ctx context.Context, algorithmID string) ([]publish.QA, error) {
		items, err := fb.Published(ctx, algorithmID)
		if err != nil {
			return nil, err
		}
		out := make([]publish.QA, len(items))
		for i, q := range items {
			out[i] = publish.QA{Kind: q.Kind, Question: q.Question, Answer: q.Answer, Lang: q.Lang, AskedAt: q.AskedAt, AnsweredAt: q.AnsweredAt}
		}
		return out, nil
	}
}

// newLog opens the transparency log, named after the register's public address.
func newLog(db *pgxpool.Pool, cfg Config) (*tlog.Log, error) {
	origin := strings.TrimPrefix(strings.TrimPrefix(cfg.BaseURL, "https://"), "http://") + "/log"
	key := cfg.LogKey
	if key == "" {
		var err error
		if key, _, err = tlog.GenerateKey(origin); err != nil {
			return nil, err
		}
	}
	return tlog.New(db, origin, key)
}
