package algorithms

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/web"
)

type riskData struct {
	Algorithm *Algorithm
	Revision  *Revision
	Defs      *risk.Definitions
	Answers   risk.Answers
	Result    risk.Result
	Version   int
	Errors    map[string]string
	Conflict  *Revision // set when someone else saved the assessment meanwhile
	Lang      string
}

// RiskPage shows the EU AI Act checklist and the impact questionnaire, with the tier, level
// and review route the current answers give.
func (h *Handlers) RiskPage(w http.ResponseWriter, r *http.Request) error {
	alg, rev, err := h.owned(r)
	if err != nil {
		return err
	}
	d := riskData{Algorithm: alg, Revision: rev, Defs: h.store.Risk, Answers: rev.Risk, Result: rev.Assessment,
		Version: rev.Version, Errors: map[string]string{}, Lang: string(web.LangFrom(r.Context()))}
	return h.rd.Render(w, r, http.StatusOK, "workspace/risk", web.Page{Title: h.rd.T(r, "Risk assessment"), Data: d})
}

// answersFrom reads the risk form: checklist.ID = yes|no, impact.ID = choice ID.
func answersFrom(defs *risk.Definitions, form url.Values) risk.Answers {
	a := risk.Answers{Checklist: map[string]bool{}, Impact: map[string]string{},
		Exception63: form.Get("exception_6_3") != "", ExceptionJustification: form.Get("exception_justification")}
	for _, q := range defs.Checklist.Questions() {
		switch form.Get("checklist." + q.ID) {
		case "yes":
			a.Checklist[q.ID] = true
		case "no":
			a.Checklist[q.ID] = false
		}
	}
	for _, q := range defs.Impact.Questions {
		if c := form.Get("impact." + q.ID); c != "" {
			a.Impact[q.ID] = c
		}
	}
	return a
}

// SaveRisk saves the answers; the stored tier, level and route follow from them.
func (h *Handlers) SaveRisk(w http.ResponseWriter, r *http.Request) error {
	alg, rev, err := h.owned(r)
	if err != nil {
		return err
	}
	if !rev.Editable() {
		return h.rd.Redirect(w, r, "/workspace/"+alg.ID, "This revision can no longer be edited: it has been submitted or decided.")
	}
	form, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(form.Get("version"))
	answers := answersFrom(h.store.Risk, form.Values)
	_, err = h.store.SaveRisk(r.Context(), rev.ID, version, answers, ActorOf(r))
	var stale *StaleError
	if errors.As(err, &stale) {
		// Show their result beside these answers, which are kept in the form, ready to save
		// over theirs.
		d := riskData{Algorithm: alg, Revision: stale.Current, Defs: h.store.Risk, Answers: answers,
			Result: h.store.Risk.Assess(answers), Version: stale.Current.Version, Errors: map[string]string{},
			Conflict: stale.Current, Lang: string(web.LangFrom(r.Context()))}
		return h.rd.Render(w, r, http.StatusConflict, "workspace/risk", web.Page{Title: h.rd.T(r, "Risk assessment"), Data: d})
	}
	if err != nil {
		if !h.rd.Fail(r, form, err) {
			return err
		}
		d := riskData{Algorithm: alg, Revision: rev, Defs: h.store.Risk, Answers: answers, Result: h.store.Risk.Assess(answers),
			Version: version, Errors: form.Errors, Lang: string(web.LangFrom(r.Context()))}
		return h.rd.Render(w, r, http.StatusUnprocessableEntity, "workspace/risk", web.Page{Title: h.rd.T(r, "Risk assessment"), Data: d})
	}
	return h.rd.Redirect(w, r, "/workspace/"+alg.ID+"/risk#result", "Risk assessment saved.")
}
