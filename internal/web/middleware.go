package web

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

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

// exchange is one request and its response as the middleware sees them: the ID and the
// language that handlers read back, the status and size that the log line reports. It is
// the only allocation the middleware makes for a request (a context value and a request
// copy per piece of information would be six), which matters on cached public pages, where
// the middleware is most of the work.
type exchange struct {
	http.ResponseWriter
	id       string
	idHeader [1]string // the X-Request-Id header's value, sharing this allocation
	lang     i18n.Lang
	status   int
	bytes    int
}

func (x *exchange) WriteHeader(status int) {
	if x.status == 0 && status >= 200 {
		x.status = status
	}
	x.ResponseWriter.WriteHeader(status)
}

func (x *exchange) Write(p []byte) (int, error) {
	if x.status == 0 {
		x.status = http.StatusOK
	}
	n, err := x.ResponseWriter.Write(p)
	x.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the server's writer (to flush a stream).
func (x *exchange) Unwrap() http.ResponseWriter { return x.ResponseWriter }

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// slowRequest is the duration past which a successful read is logged as if it had failed:
// a public page should take milliseconds.
const slowRequest = time.Second

// RequestLog gives each request a random ID, echoed in X-Request-Id and in every log line,
// and logs one structured line per request: at Info for a change (any method but GET and
// HEAD), a failure (status 400 or more) or a slow read, at Debug for the rest. Those are
// nearly all requests, reads of public pages served from the cache, and writing a line for
// each cost about a tenth of the server's time under load: they show only when the
// handler is enabled for Debug.
func RequestLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			x := &exchange{ResponseWriter: w}
			// Random, to tell requests apart in the logs of several instances; not a secret,
			// so the runtime's generator serves, without a system call.
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], rand.Uint64())
			x.id = hex.EncodeToString(b[:])
			x.idHeader[0] = x.id
			w.Header()["X-Request-Id"] = x.idHeader[:]
			next.ServeHTTP(x, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x)))
			elapsed := time.Since(start)
			status := x.status
			if status == 0 {
				status = http.StatusOK
			}
			level := slog.LevelInfo
			if (r.Method == http.MethodGet || r.Method == http.MethodHead) && status < 400 && elapsed < slowRequest {
				level = slog.LevelDebug
			}
			if !log.Enabled(r.Context(), level) {
				return
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("request_id", x.id),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int("bytes", x.bytes),
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
			if r.Body != nil && r.Body != http.NoBody { // most GETs: nothing to limit
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
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
		next.ServeHTTP(w, UseLang(r, i18n.Negotiate(choice, accept)))
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
