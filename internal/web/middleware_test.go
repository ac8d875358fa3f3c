package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestLoggerLevels: changes and failures are logged at Info; successful reads, nearly all
// requests, only at Debug.
func TestLoggerLevels(t *testing.T) {
	for _, tc := range []struct {
		method string
		status int
		want   string // the level of the line; "" for none at Info
	}{
		{http.MethodGet, http.StatusOK, ""},
		{http.MethodHead, http.StatusOK, ""},
		{http.MethodGet, http.StatusNotModified, ""},
		{http.MethodGet, http.StatusNotFound, "INFO"},
		{http.MethodGet, http.StatusInternalServerError, "INFO"},
		{http.MethodPost, http.StatusSeeOther, "INFO"},
		{http.MethodPut, http.StatusOK, "INFO"},
	} {
		for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level}))
			h := RequestLog(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, "/ca/algorithms/x", nil))

			want := tc.want
			if want == "" && level == slog.LevelDebug {
				want = "DEBUG"
			}
			if want == "" {
				if buf.Len() != 0 {
					t.Errorf("%s → %d at Info: logged %s, want nothing", tc.method, tc.status, buf.String())
				}
				continue
			}
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("%s → %d: %v in %q", tc.method, tc.status, err, buf.String())
			}
			if got["level"] != want || got["msg"] != "request" || got["method"] != tc.method ||
				got["status"] != float64(tc.status) || got["path"] != "/ca/algorithms/x" || got["request_id"] == "" {
				t.Errorf("%s → %d at %v: logged %v, want a request line at %s", tc.method, tc.status, level, got, want)
			}
		}
	}
}

// TestSecurityHeadersShared: the header values are shared between responses; a handler
// that adds to one must not change what the next response carries.
func TestSecurityHeadersShared(t *testing.T) {
	h := SecurityHeaders(false)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Frame-Options", "SAMEORIGIN")
		w.Header().Set("Content-Security-Policy", "default-src *")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))

	w := httptest.NewRecorder()
	SecurityHeaders(true)(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	for name, want := range map[string]string{
		"Content-Security-Policy":    ContentSecurityPolicy,
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "strict-origin-when-cross-origin",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
		"Permissions-Policy":         "camera=(), microphone=(), geolocation=()",
		"Strict-Transport-Security":  "max-age=63072000; includeSubDomains",
	} {
		if got := w.Header().Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	w = httptest.NewRecorder()
	SecurityHeaders(false)(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := w.Header().Get("Strict-Transport-Security"); got != "" {
		t.Errorf("over plain HTTP: Strict-Transport-Security %q", got)
	}
}
