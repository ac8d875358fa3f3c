package publish

import (
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/web"
)

// DefaultRateLimit is the anonymous public API's allowance per client address, in requests
// per minute.
const DefaultRateLimit = 120

// maxBuckets bounds the limiter's memory. Past it, full buckets (clients that have been
// quiet for a while) are forgotten; a forgotten client starts again with a full bucket,
// which is what it would have had anyway.
const maxBuckets = 100_000

// RateLimiter limits anonymous use of the public API per client address with a token
// bucket: perMinute requests in a burst, refilled at perMinute per minute.
//
// The buckets live in this instance's memory, not in PostgreSQL. That is enough here: the
// limit protects the instance and its database from one client's flood of cheap, public
// reads; it guards no secret and decides nothing that must agree across instances. Behind
// a load balancer with n instances a client gets at most n times the allowance, still
// bounded, and the database is spared a write on every anonymous read.
type RateLimiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter returns a limiter allowing perMinute requests a minute per client.
func NewRateLimiter(perMinute int) *RateLimiter {
	return &RateLimiter{rate: float64(perMinute) / 60, burst: float64(perMinute),
		buckets: map[string]*bucket{}, now: time.Now}
}

// Allow takes a token from key's bucket. When the bucket is empty it answers false and how
// long until the next token.
func (l *RateLimiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// sweep forgets the buckets that have refilled completely; if that is not enough (a flood
// from very many addresses), it forgets them all rather than grow without bound.
func (l *RateLimiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets {
		l.buckets = map[string]*bucket{}
	}
}

// Limit refuses anonymous requests over the allowance with 429, Retry-After and the JSON
// error. A request signed in with a valid API token (the viewer set by the token
// middleware, which runs first) is not counted: staff clients are accountable by their
// token. A nil limiter limits nothing.
func (l *RateLimiter) Limit(rd *web.Renderer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if web.ViewerFrom(r.Context()) == nil {
				if ok, wait := l.Allow(clientKey(web.ClientIP(r))); !ok {
					rd.Error(w, r, &apperr.Error{Code: apperr.TooManyRequests,
						Message: "Too many requests from your address. Please wait and try again.", RetryAfter: wait})
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// clientKey is the address a bucket is kept for. An IPv6 client usually holds a whole /64
// and could change address at will, so its /64 counts as one client.
func clientKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
