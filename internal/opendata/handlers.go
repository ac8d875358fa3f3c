package opendata

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/web"
)

//go:embed schema/eurocities-0.3.1.schema.json
var eurocitiesSchema []byte

// EurocitiesSchema returns the JSON Schema (draft 2020-12) of one object of the Eurocities
// export.
func EurocitiesSchema() []byte { return bytes.Clone(eurocitiesSchema) }

// Handlers serve the exports, the data package and the Eurocities schema to anyone.
type Handlers struct {
	src         Source
	log         *slog.Logger
	datapackage document
	schema      document
}

// document is a fixed JSON document served with a strong ETag.
type document struct {
	body        []byte
	etag        string
	contentType string
}

func newDocument(body []byte, contentType string) document {
	sum := sha256.Sum256(body)
	return document{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, contentType: contentType}
}

// NewHandlers returns the open data handlers reading published entries from src.
func NewHandlers(src Source, log *slog.Logger) (*Handlers, error) {
	pkg, err := DataPackage()
	if err != nil {
		return nil, err
	}
	return &Handlers{src: src, log: log,
		datapackage: newDocument(pkg, "application/json; charset=utf-8"),
		schema:      newDocument(eurocitiesSchema, "application/schema+json; charset=utf-8")}, nil
}

// exportFiles are the media types and download names of the formats.
var exportFiles = map[Format]struct{ contentType, name string }{
	JSON:       {"application/json; charset=utf-8", "algorithm-register"},
	NDJSON:     {"application/x-ndjson; charset=utf-8", "algorithm-register"},
	CSV:        {"text/csv; charset=utf-8", "algorithm-register"},
	Eurocities: {"application/json; charset=utf-8", "algorithm-register-eurocities"},
}

// fileExtension is the extension of a format's download.
func fileExtension(f Format) string {
	if f == Eurocities {
		return ".json"
	}
	return "." + string(f)
}

// Export serves the export in format f, streamed row by row from the database.
// ?versions=all gives every published revision (not for Eurocities: one object per entry).
// HEAD answers the headers without reading the database.
func (h *Handlers) Export(f Format) web.HandlerFunc {
	file := exportFiles[f]
	return func(w http.ResponseWriter, r *http.Request) error {
		all := false
		if f != Eurocities {
			var err error
			if all, err = allVersions(r); err != nil {
				return err
			}
		}
		name := file.name
		if all {
			name += "-all-versions"
		}
		hd := w.Header()
		hd.Set("Content-Type", file.contentType)
		hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + fileExtension(f)}))
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Cache-Control", "public, max-age=60")
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			return nil
		}
		return h.stream(w, r, f, all)
	}
}

// stream writes the export. An error before the first byte is returned, to be answered as
// an error; after it the status is gone, so the connection is aborted instead, and the
// client sees a broken transfer rather than a complete-looking but truncated file.
func (h *Handlers) stream(w http.ResponseWriter, r *http.Request, f Format, all bool) error {
	rc := http.NewResponseController(w)
	sw := &sentWriter{w: w}
	err := Export(r.Context(), h.src, sw, f, Options{AllVersions: all, Flush: func() error {
		// Each flush proves the client is reading, so a large export may outlast the
		// server's write timeout; a client that stops reading still times out.
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}})
	if err == nil {
		return nil
	}
	if !sw.sent {
		w.Header().Del("Content-Disposition")
		w.Header().Del("Cache-Control")
		return err
	}
	if r.Context().Err() == nil {
		h.log.ErrorContext(r.Context(), "export failed mid-stream", slog.String("format", string(f)),
			slog.String("request_id", web.RequestIDOf(r)), slog.Any("err", err))
	}
	panic(http.ErrAbortHandler)
}

// allVersions reads ?versions=: absent or "latest" for the latest revision of each entry,
// "all" for every published revision.
func allVersions(r *http.Request) (bool, error) {
	switch r.URL.Query().Get("versions") {
	case "", "latest":
		return false, nil
	case "all":
		return true, nil
	}
	return false, &apperr.Error{Code: apperr.BadRequest, Message: "The request could not be understood.",
		Fields: map[string]string{"versions": "Use versions=all, or leave the parameter out."}}
}

// sentWriter records whether anything reached the client.
type sentWriter struct {
	w    http.ResponseWriter
	sent bool
}

func (s *sentWriter) Write(p []byte) (int, error) {
	s.sent = s.sent || len(p) > 0
	return s.w.Write(p)
}

// DataPackage serves datapackage.json.
func (h *Handlers) DataPackage(w http.ResponseWriter, r *http.Request) error {
	serveDocument(w, r, h.datapackage)
	return nil
}

// EurocitiesSchemaHandler serves the JSON Schema of the Eurocities export.
func (h *Handlers) EurocitiesSchemaHandler(w http.ResponseWriter, r *http.Request) error {
	serveDocument(w, r, h.schema)
	return nil
}

// serveDocument answers with a fixed document: strong ETag, 304, HEAD and ranges come from
// http.ServeContent; they change only with a new binary.
func serveDocument(w http.ResponseWriter, r *http.Request, d document) {
	hd := w.Header()
	hd.Set("Content-Type", d.contentType)
	hd.Set("ETag", d.etag)
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(d.body))
}
