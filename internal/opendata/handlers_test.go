package opendata_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/civictech/registry/internal/opendata"
)

// TestExportHandlerFailures: a database error before the first byte is returned (so the
// application answers with an error status and no download), and one after it aborts the
// connection, so that the client never takes a truncated export for a complete one.
func TestExportHandlerFailures(t *testing.T) {
	boom := errors.New("connection lost")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	h, err := opendata.NewHandlers(failing{err: boom}, log)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	err = h.Export(opendata.CSV)(rec, httptest.NewRequest(http.MethodGet, "/api/v1/export.csv", nil))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the query's error", err)
	}
	if rec.Body.Len() != 0 || rec.Header().Get("Content-Disposition") != "" {
		t.Errorf("wrote %d bytes, Content-Disposition %q before failing", rec.Body.Len(), rec.Header().Get("Content-Disposition"))
	}

	h, err = opendata.NewHandlers(failing{err: boom, after: 250}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.Export(opendata.NDJSON)(w, r); err != nil {
			t.Errorf("handler returned %v after sending", err)
		}
	}))
	defer srv.Close()
	srv.Config.ErrorLog = slog.NewLogLogger(slog.NewTextHandler(io.Discard, nil), slog.LevelError)
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err == nil {
		t.Errorf("a failed export arrived as a complete %d-byte response", len(body))
	}
	if len(body) == 0 {
		t.Error("nothing was streamed before the failure")
	}
}

// TestExportHead answers HEAD without touching the source.
func TestExportHead(t *testing.T) {
	h, err := opendata.NewHandlers(failing{err: errors.New("must not be read")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := h.Export(opendata.Eurocities)(rec, httptest.NewRequest(http.MethodHead, "/api/v1/export/eurocities.json", nil)); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("HEAD: %d, %d bytes, %v", rec.Code, rec.Body.Len(), rec.Header())
	}
}
