package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/opendata"
)

// TestOpenDataRoutes serves the exports over HTTP: the same bytes as the shared writer,
// with the right headers for anyone, HEAD without a body, and clear errors.
func TestOpenDataRoutes(t *testing.T) {
	app := newTestApp(t)
	demoStaff(t, app)
	c := app.bareClient()
	exportOf := func(f opendata.Format, all bool) string {
		var buf bytes.Buffer
		if err := opendata.Export(context.Background(), app.srv.Algorithms(), &buf, f, opendata.Options{AllVersions: all}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	for _, tc := range []struct {
		path, contentType, filename string
		format                      opendata.Format
		all                         bool
	}{
		{"/api/v1/export.json", "application/json; charset=utf-8", "algorithm-register.json", opendata.JSON, false},
		{"/api/v1/export.ndjson", "application/x-ndjson; charset=utf-8", "algorithm-register.ndjson", opendata.NDJSON, false},
		{"/api/v1/export.csv", "text/csv; charset=utf-8", "algorithm-register.csv", opendata.CSV, false},
		{"/api/v1/export.csv?versions=all", "text/csv; charset=utf-8", "algorithm-register-all-versions.csv", opendata.CSV, true},
		{"/api/v1/export.ndjson?versions=all", "application/x-ndjson; charset=utf-8", "algorithm-register-all-versions.ndjson", opendata.NDJSON, true},
		{"/api/v1/export/eurocities.json", "application/json; charset=utf-8", "algorithm-register-eurocities.json", opendata.Eurocities, false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := c.get(tc.path)
			expectStatus(t, res, http.StatusOK)
			checkExportHeaders(t, res, tc.contentType, tc.filename)
			if want := exportOf(tc.format, tc.all); res.body != want {
				t.Errorf("body differs from opendata.Export (%d bytes, want %d)", len(res.body), len(want))
			}
			if len(res.body) < 1000 {
				t.Errorf("suspiciously short export: %q", res.body)
			}
			req, _ := http.NewRequest(http.MethodHead, app.http.URL+tc.path, nil)
			head := c.do(req)
			expectStatus(t, head, http.StatusOK)
			checkExportHeaders(t, head, tc.contentType, tc.filename)
			if head.body != "" {
				t.Errorf("HEAD answered with a body of %d bytes", len(head.body))
			}
		})
	}
}

// TestOpenDataDocuments: a bad versions parameter gets a JSON error, not a download; the
// data package and the Eurocities schema are served as fixed documents with ETags.
func TestOpenDataDocuments(t *testing.T) {
	app := newTestApp(t)
	c := app.bareClient()
	t.Run("bad versions", func(t *testing.T) {
		res := c.get("/api/v1/export.csv?versions=some")
		expectStatus(t, res, http.StatusBadRequest)
		var body struct {
			Error struct {
				Code   string            `json:"code"`
				Fields map[string]string `json:"fields"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(res.body), &body); err != nil || body.Error.Fields["versions"] == "" {
			t.Errorf("error body %q (%v)", res.body, err)
		}
		if cd := res.Header.Get("Content-Disposition"); cd != "" {
			t.Errorf("an error is offered as a download: %q", cd)
		}
	})

	t.Run("data package and schema", func(t *testing.T) {
		for path, wantType := range map[string]string{
			"/api/v1/datapackage.json":       "application/json; charset=utf-8",
			"/api/v1/schema/eurocities.json": "application/schema+json; charset=utf-8",
		} {
			res := c.get(path)
			expectStatus(t, res, http.StatusOK)
			if res.Header.Get("Content-Type") != wantType || res.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s headers: %v", path, res.Header)
			}
			if !json.Valid([]byte(res.body)) {
				t.Errorf("%s is not JSON", path)
			}
			req, _ := http.NewRequest(http.MethodGet, app.http.URL+path, nil)
			req.Header.Set("If-None-Match", res.Header.Get("ETag"))
			expectStatus(t, c.do(req), http.StatusNotModified)
		}
		pkg, _ := opendata.DataPackage()
		if res := c.get("/api/v1/datapackage.json"); res.body != string(pkg) {
			t.Error("served data package differs from opendata.DataPackage")
		}
		if res := c.get("/api/v1/schema/eurocities.json"); res.body != string(opendata.EurocitiesSchema()) {
			t.Error("served schema differs from the embedded one")
		}
	})
}

func checkExportHeaders(t *testing.T, res *response, contentType, filename string) {
	t.Helper()
	h := res.Header
	if h.Get("Content-Type") != contentType {
		t.Errorf("Content-Type = %q, want %q", h.Get("Content-Type"), contentType)
	}
	if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, `filename=`+filename) &&
		!strings.Contains(cd, `filename="`+filename+`"`) {
		t.Errorf("Content-Disposition = %q, want an attachment named %s", cd, filename)
	}
	if h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("Access-Control-Allow-Origin = %q", h.Get("Access-Control-Allow-Origin"))
	}
}
