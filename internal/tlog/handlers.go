package tlog

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/web"
)

// Handlers serve the log to anyone.
type Handlers struct {
	log *Log
	rd  *web.Renderer
}

// NewHandlers returns the log's handlers.
func NewHandlers(log *Log, rd *web.Renderer) *Handlers { return &Handlers{log: log, rd: rd} }

func public(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "no-cache")
}

// CheckpointText serves the latest signed checkpoint (a signed note).
func (h *Handlers) CheckpointText(w http.ResponseWriter, r *http.Request) error {
	signed, _, err := h.log.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	public(w)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = w.Write([]byte(signed))
	return err
}

// Key serves the public key checkpoints are signed with.
func (h *Handlers) Key(w http.ResponseWriter, r *http.Request) error {
	public(w)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte(h.log.VerifierKey() + "\n"))
	return err
}

func intParam(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, apperr.InvalidFields("Please correct the errors below.", map[string]string{name: "Enter a whole number."})
	}
	return n, nil
}

// RecordsJSON serves records from ?start= (default 0), at most ?limit= (default and most 1000).
func (h *Handlers) RecordsJSON(w http.ResponseWriter, r *http.Request) error {
	start, err := intParam(r, "start", 0)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 1000)
	if err != nil {
		return err
	}
	entries, err := h.log.Records(r.Context(), start, int(min(max(limit, 1), 1000)))
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []Entry{}
	}
	public(w)
	web.WriteJSON(w, http.StatusOK, map[string]any{"records": entries})
	return nil
}

func encodeHashes[T ~[]H, H ~[32]byte](proof T) []string {
	out := make([]string, len(proof))
	for i, h := range proof {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

// InclusionJSON proves ?index= is in the tree of ?size=.
func (h *Handlers) InclusionJSON(w http.ResponseWriter, r *http.Request) error {
	index, err := intParam(r, "index", 0)
	if err != nil {
		return err
	}
	size, err := intParam(r, "size", 0)
	if err != nil {
		return err
	}
	proof, root, err := h.log.InclusionProof(r.Context(), index, size)
	if err != nil {
		return err
	}
	public(w)
	web.WriteJSON(w, http.StatusOK, map[string]any{"index": index, "size": size,
		"root": base64.StdEncoding.EncodeToString(root[:]), "proof": encodeHashes(proof)})
	return nil
}

// ConsistencyJSON proves that the tree of ?old= is a prefix of the tree of ?size=.
func (h *Handlers) ConsistencyJSON(w http.ResponseWriter, r *http.Request) error {
	old, err := intParam(r, "old", 0)
	if err != nil {
		return err
	}
	size, err := intParam(r, "size", 0)
	if err != nil {
		return err
	}
	proof, err := h.log.ConsistencyProof(r.Context(), old, size)
	if err != nil {
		return err
	}
	public(w)
	web.WriteJSON(w, http.StatusOK, map[string]any{"old": old, "size": size, "proof": encodeHashes(proof)})
	return nil
}

type pageData struct {
	Origin, Key, Signed string
	Size                int64
	Recent              []Entry
	Empty               bool
}

// Page explains the log to citizens and shows its current checkpoint and latest records.
func (h *Handlers) Page(w http.ResponseWriter, r *http.Request) error {
	d := pageData{Origin: h.log.Origin(), Key: h.log.VerifierKey()}
	signed, size, err := h.log.Checkpoint(r.Context())
	switch {
	case apperr.Is(err, apperr.NotFound):
		d.Empty = true
	case err != nil:
		return err
	default:
		d.Signed, d.Size = signed, size
		if d.Recent, err = h.log.Records(r.Context(), max(0, size-20), 20); err != nil {
			return err
		}
	}
	return h.rd.Render(w, r, http.StatusOK, "public/log", web.Page{Title: h.rd.T(r, "Transparency log"), Data: d})
}
