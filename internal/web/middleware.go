package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/i18n"
)

// ContentSecurityPolicy allows only the site's own scripts, styles and images: no inline
// script, no style attributes, no plugins, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders are the headers every response carries, as header map entries: assigned
// rather than Set, each response spares canonicalising six names and allocating six
// slices. Sharing the slices is safe: Header.Set replaces a slice and Header.Add appends
// to one whose capacity is full, which copies it; nothing writes into one in place.
var securityHeaders = []struct {
	name  string
	value []string
}{
	{"Content-Security-Policy", []string{ContentSecurityPolicy}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"Referrer-Policy", []string{"strict-origin-when-cross-origin"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=()"}},
}

var hstsHeader = []string{"max-age=63072000; includeSubDomains"}

// SecurityHeaders sets the headers every response carries. hsts adds Strict-Transport-Security
// (only behind HTTPS, where a browser will honour it).
func SecurityHeaders(hsts bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for _, sh := range securityHeaders {
				h[sh.name] = sh.value
			}
			if hsts || r.TLS != nil {
				h["Strict-Transport-Security"] = hstsHeader
			}
			next.ServeHTTP(w, r)
		})
	}
}

// AssignRequestID gives each request a random ID, echoed in X-Request-Id and in every log line.
func AssignRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// slowRequest is the duration past which a successful read is logged as if it had failed:
// a public page should take milliseconds.
const slowRequest = time.Second

// Logger logs one structured line per request: at Info for a change (any method but GET
// and HEAD), a failure (status 400 or more) or a slow read, at Debug for the rest. Those
// are nearly all requests, reads of public pages served from the cache, and writing a
// line for each cost about a tenth of the server's time under load (bench/README.md):
// they show only when the handler is enabled for Debug.
func Logger(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			elapsed := time.Since(start)
			level := slog.LevelInfo
			if (r.Method == http.MethodGet || r.Method == http.MethodHead) && ww.Status() < 400 && elapsed < slowRequest {
				level = slog.LevelDebug
			}
			if !log.Enabled(r.Context(), level) {
				return
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("request_id", RequestIDOf(r)),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", ww.Status()),
				slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("duration", elapsed))
		})
	}
}

// RequestIDOf returns the request's ID.
func RequestIDOf(r *http.Request) string { return RequestIDFrom(r.Context()) }

// Recoverer turns a panic into a logged 500.
func (rd *Renderer) Recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				rd.log.ErrorContext(r.Context(), "panic", slog.Any("value", v), slog.String("request_id", RequestIDOf(r)))
				rd.Error(w, r, apperr.New(apperr.Internal, ""))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// LimitBody caps request bodies at n bytes; reading past it fails with *http.MaxBytesError,
// which Error answers with 413.
func LimitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				w.Header().Set("Connection", "close")
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// StaffLang chooses the language of a page without a language prefix: the "lang" cookie,
// then Accept-Language, then Catalan (English for the API when nothing is asked).
func StaffLang(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		choice := ""
		if c, err := r.Cookie("lang"); err == nil {
			choice = c.Value
		}
		accept := r.Header.Get("Accept-Language")
		if IsAPI(r) {
			// Programs say what they want in Accept-Language; the cookie only speaks for a
			// browser, and the API's default is English.
			switch {
			case accept != "":
				choice = ""
			case choice == "":
				choice = string(i18n.English)
			}
		}
		next.ServeHTTP(w, r.WithContext(WithLang(r.Context(), i18n.Negotiate(choice, accept))))
	})
}

// CrossOrigin refuses cross-site writes (http.CrossOriginProtection) with the register's
// own 403 page or JSON error.
func (rd *Renderer) CrossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.Error(w, r, apperr.New(apperr.Forbidden, "Cross-site request refused."))
	}))
	return cop.Handler(next)
}

// ClientIP returns the address of the client: the peer address, since the server does not
// trust forwarding headers unless it is told it stands behind a proxy.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
