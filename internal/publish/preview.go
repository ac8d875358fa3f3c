package publish

import (
	"net/http"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/web"
)

// Pages serves fact sheets.
type Pages struct {
	rd *web.Renderer
}

// NewPages returns the fact-sheet pages.
func NewPages(rd *web.Renderer) *Pages { return &Pages{rd: rd} }

// factsheetData is what the fact-sheet template shows.
type factsheetData struct {
	Doc      *Document
	Preview  bool
	EditHref string
	Revision int
	State    string
}

// translator returns the catalogue in lang.
func (p *Pages) translator(lang i18n.Lang) Translator {
	cat := p.rd.Catalogue()
	return func(key string, args ...any) string { return cat.T(lang, key, args...) }
}

// Preview renders a revision as its public fact sheet would look, in the language asked
// for (?lang=), without caching: it is a working copy.
func (p *Pages) Preview(w http.ResponseWriter, r *http.Request, alg *algorithms.Algorithm, rev *algorithms.Revision) error {
	lang, ok := i18n.Parse(r.URL.Query().Get("lang"))
	if !ok {
		lang = i18n.Lang(rev.Sheet.Lang)
	}
	doc := Compose(&rev.Sheet, rev.Assessment, Governance{}, string(lang), p.translator(lang))
	doc.Render()
	return p.rd.Render(w, r, http.StatusOK, "factsheet", web.Page{Title: doc.Title,
		Data: factsheetData{Doc: doc, Preview: true, EditHref: "/workspace/" + alg.ID, Revision: rev.Number, State: rev.State}})
}

// Document composes and renders a revision's fact sheet in the request's language, for
// pages that show a working copy (review, preview).
func (p *Pages) Document(r *http.Request, rev *algorithms.Revision) *Document {
	lang := web.LangFrom(r.Context())
	doc := Compose(&rev.Sheet, rev.Assessment, Governance{}, string(lang), p.translator(lang))
	doc.Embedded = true
	doc.Render()
	return doc
}
