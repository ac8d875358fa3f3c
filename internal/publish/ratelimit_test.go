package publish

import (
	"fmt"
	"testing"
	"time"
)

// fakeClock is a limiter's clock that tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestRateLimiterBucket(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	l := NewRateLimiter(60) // one a second, 60 in a burst
	l.now = clock.now

	for i := range 60 {
		if ok, _ := l.Allow("192.0.2.1"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("192.0.2.1")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("past the burst: allowed %v, wait %v (want up to 1s)", ok, wait)
	}
	// Another client has its own bucket.
	if ok, _ := l.Allow("192.0.2.2"); !ok {
		t.Error("a second client was refused because of the first")
	}
	// Tokens come back at the rate: one after a second, not two.
	clock.t = clock.t.Add(time.Second)
	if ok, _ := l.Allow("192.0.2.1"); !ok {
		t.Error("no token after a second")
	}
	if ok, _ := l.Allow("192.0.2.1"); ok {
		t.Error("two tokens after a second")
	}
	// A long pause refills the bucket, but only up to the burst.
	clock.t = clock.t.Add(time.Hour)
	for i := range 60 {
		if ok, _ := l.Allow("192.0.2.1"); !ok {
			t.Fatalf("after a pause, request %d refused", i+1)
		}
	}
	if ok, _ := l.Allow("192.0.2.1"); ok {
		t.Error("the bucket held more than the burst")
	}
}

func TestRateLimiterClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7",
		"2001:db8:1:2:aaaa::1":    "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:1:2:3": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":         "2001:db8:1:3::/64",
		"::ffff:192.0.2.7":        "::ffff:192.0.2.7",
		"not an address (a pipe)": "not an address (a pipe)",
	} {
		if got := clientKey(addr); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestRateLimiterBoundedMemory(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	l := NewRateLimiter(120)
	l.now = clock.now
	for i := range maxBuckets - 1 {
		l.Allow(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	// Two minutes later the old clients' buckets are full again. A new client fills the
	// map and uses up its allowance; the next new client sweeps: the quiet ones go, the
	// busy one stays with its empty bucket.
	clock.t = clock.t.Add(2 * time.Minute)
	for range 120 {
		l.Allow("198.51.100.1")
	}
	if n := len(l.buckets); n != maxBuckets {
		t.Fatalf("%d buckets before the sweep", n)
	}
	l.Allow("198.51.100.2")
	if n := len(l.buckets); n > 2 {
		t.Errorf("%d buckets after a sweep, want the two recent clients", n)
	}
	if ok, _ := l.Allow("198.51.100.1"); ok {
		t.Error("the sweep forgot a client that had used up its allowance")
	}
}
