package algorithms

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/web"
)

// Handlers serve the authors' workspace.
type Handlers struct {
	store   *Store
	rd      *web.Renderer
	preview func(w http.ResponseWriter, r *http.Request, alg *Algorithm, rev *Revision) error
	// Feedback returns the committee's comments and decisions on a revision, for its
	// authors (the review package knows them).
	Feedback func(r *http.Request, revID string) (any, error)
	// Departments returns the names, in a language, of the departments authors choose
	// from (the departments package keeps them); nil or none: the field is free text.
	Departments func(ctx context.Context, lang string) ([]string, error)
}

// renderSection renders a section's form, with the departments to choose from.
func (h *Handlers) renderSection(w http.ResponseWriter, r *http.Request, status int, sv *sectionView) error {
	if h.Departments != nil {
		for i := range sv.Fields {
			if sv.Fields[i].Name != "department" {
				continue
			}
			names, err := h.Departments(r.Context(), sv.TL)
			if err != nil {
				return err
			}
			sv.Fields[i].Suggestions = names
		}
	}
	return h.rd.Render(w, r, status, "workspace/section", web.Page{Title: h.rd.T(r, sv.Title), Data: sv})
}

// NewHandlers returns the workspace handlers. preview renders a revision as its public fact
// sheet would look (the publish package knows how).
func NewHandlers(store *Store, rd *web.Renderer, preview func(http.ResponseWriter, *http.Request, *Algorithm, *Revision) error) *Handlers {
	return &Handlers{store: store, rd: rd, preview: preview}
}

// ActorOf describes the request's viewer.
func ActorOf(r *http.Request) Actor {
	a := Actor{ClientIP: web.ClientIP(r), RequestID: web.RequestIDOf(r)}
	if v := web.ViewerFrom(r.Context()); v != nil {
		a.UserID, a.Email = v.ID, v.Email
	}
	return a
}

// owned loads the entry named in the address and its latest revision. Someone who does not
// own it is told it does not exist, so that IDs reveal nothing.
func (h *Handlers) owned(r *http.Request) (*Algorithm, *Revision, error) {
	alg, err := h.store.Algorithm(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return nil, nil, err
	}
	if !alg.IsOwner(web.ViewerFrom(r.Context()).ID) {
		return nil, nil, errNoAlgorithm
	}
	rev, err := h.store.Latest(r.Context(), alg.ID)
	return alg, rev, err
}

// List shows the author's entries.
func (h *Handlers) List(w http.ResponseWriter, r *http.Request) error {
	entries, err := h.store.OwnedBy(r.Context(), web.ViewerFrom(r.Context()).ID)
	if err != nil {
		return err
	}
	return h.rd.Render(w, r, http.StatusOK, "workspace/index", web.Page{Title: h.rd.T(r, "Workspace"), Data: entries})
}

type newData struct {
	Form        *web.Form
	Langs       []string
	Departments []string // to choose from, in the page's language
}

// renderNew renders the new-entry form.
func (h *Handlers) renderNew(w http.ResponseWriter, r *http.Request, status int, f *web.Form) error {
	d := newData{Form: f, Langs: Languages}
	if h.Departments != nil {
		var err error
		if d.Departments, err = h.Departments(r.Context(), string(web.LangFrom(r.Context()))); err != nil {
			return err
		}
	}
	return h.rd.Render(w, r, status, "workspace/new", web.Page{Title: h.rd.T(r, "New entry"), Data: d})
}

// NewPage asks for what an entry needs to exist: its name and original language.
func (h *Handlers) NewPage(w http.ResponseWriter, r *http.Request) error {
	f := web.NewForm(url.Values{"lang": {string(web.LangFrom(r.Context()))}, "organization": {"Ajuntament de Barcelona"}})
	return h.renderNew(w, r, http.StatusOK, f)
}

// Create registers the entry and opens its overview.
func (h *Handlers) Create(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	lang := f.Get("lang")
	sheet := FactSheet{Lang: lang, Name: Text{lang: f.Get("name")}, DescriptionShort: Text{lang: f.Get("description_short")},
		Organization: Text{lang: f.Get("organization")}, Department: Text{lang: f.Get("department")},
		Area: Text{lang: "Barcelona"}, Status: "planned"}
	if !slices.Contains(Languages, lang) {
		sheet.Lang = "??"
	}
	alg, _, err := h.store.Create(r.Context(), ActorOf(r), sheet)
	if err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		return h.renderNew(w, r, http.StatusUnprocessableEntity, f)
	}
	return h.rd.Redirect(w, r, "/workspace/"+alg.ID, "Entry created. Fill in each section.")
}

type sectionStatus struct {
	Section string
	Title   string
	Missing []Problem
}

type overviewData struct {
	Algorithm *Algorithm
	Revision  *Revision
	Sections  []sectionStatus
	Missing   []problemView
	Labels    map[string]string
	Langs     []string
	Owners    *web.Form
	Coverage  map[string]int // language → percentage of filled text fields translated
	Feedback  any
}

// Overview is the "check your answers" page: every section with what it still lacks.
func (h *Handlers) Overview(w http.ResponseWriter, r *http.Request) error {
	return h.renderOverview(w, r, http.StatusOK, web.NewForm(nil))
}

func (h *Handlers) renderOverview(w http.ResponseWriter, r *http.Request, status int, owners *web.Form) error {
	alg, rev, err := h.owned(r)
	if err != nil {
		return err
	}
	missing, err := h.store.Problems(r.Context(), rev)
	if err != nil {
		return err
	}
	d := overviewData{Algorithm: alg, Revision: rev, Missing: h.problemViews(r, alg.ID, rev, missing), Labels: FieldLabels, Langs: Languages,
		Owners: owners, Coverage: coverage(&rev.Sheet)}
	for _, s := range Sections {
		st := sectionStatus{Section: s, Title: SectionTitles[s]}
		for _, p := range missing {
			if p.Section == s {
				st.Missing = append(st.Missing, p)
			}
		}
		d.Sections = append(d.Sections, st)
	}
	if h.Feedback != nil {
		if d.Feedback, err = h.Feedback(r, rev.ID); err != nil {
			return err
		}
	}
	title := rev.Sheet.Name[rev.Sheet.Lang]
	return h.rd.Render(w, r, status, "workspace/overview", web.Page{Title: title, Data: d})
}

// editableSection loads the entry and section named in the address, for its owner: NotFound
// otherwise, errNotEditable when the revision can no longer be changed.
func (h *Handlers) editableSection(r *http.Request) (*Algorithm, *Revision, string, error) {
	alg, rev, err := h.owned(r)
	if err != nil {
		return nil, nil, "", err
	}
	section := chi.URLParam(r, "section")
	if !slices.Contains(Sections, section) {
		return nil, nil, "", apperr.New(apperr.NotFound, "")
	}
	if !rev.Editable() {
		return alg, rev, section, errNotEditable
	}
	return alg, rev, section, nil
}

// EditSection shows one section's form, its free text in language tl.
func (h *Handlers) EditSection(w http.ResponseWriter, r *http.Request) error {
	alg, rev, section, err := h.editableSection(r)
	if errors.Is(err, errNotEditable) {
		return h.rd.Redirect(w, r, "/workspace/"+alg.ID, "This revision can no longer be edited: it has been submitted or decided.")
	}
	if err != nil {
		return err
	}
	tl := r.URL.Query().Get("tl")
	if !slices.Contains(Languages, tl) {
		tl = rev.Sheet.Lang
	}
	extra := map[string]int{}
	if add := r.URL.Query().Get("add"); add != "" {
		extra[add] = 1
	}
	sv := newSectionView(alg, rev, &rev.Sheet, section, tl, map[string]string{}, extra)
	return h.renderSection(w, r, http.StatusOK, sv)
}

func cloneSheet(fs FactSheet) FactSheet {
	b, _ := json.Marshal(fs)
	var out FactSheet
	_ = json.Unmarshal(b, &out)
	return out
}

// SaveSection saves one section. Invalid answers come back with messages at each field and
// nothing saved; an edit made on a stale copy shows the conflict page.
func (h *Handlers) SaveSection(w http.ResponseWriter, r *http.Request) error {
	alg, rev, section, err := h.editableSection(r)
	if errors.Is(err, errNotEditable) {
		return h.rd.Redirect(w, r, "/workspace/"+alg.ID, "This revision can no longer be edited: it has been submitted or decided.")
	}
	if err != nil {
		return err
	}
	form, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	tl := form.Get("tl")
	if !slices.Contains(Languages, tl) {
		tl = rev.Sheet.Lang
	}
	version, _ := strconv.Atoi(form.Get("version"))
	sheet := cloneSheet(rev.Sheet)
	applySection(&sheet, section, tl, form.Values)

	then := form.Get("then")
	_, err = h.store.SaveSheet(r.Context(), rev.ID, version, sheet, ActorOf(r))
	var stale *StaleError
	switch {
	case errors.As(err, &stale):
		return h.renderConflict(w, r, alg, stale.Current, section, tl, form)
	case err != nil:
		if !h.rd.Fail(r, form, err) {
			return err
		}
		extra := map[string]int{}
		if name, ok := strings.CutPrefix(then, "add:"); ok {
			extra[name] = 1
		}
		sheet.normalise()
		sv := newSectionView(alg, rev, &sheet, section, tl, form.Errors, extra)
		return h.renderSection(w, r, http.StatusUnprocessableEntity, sv)
	}
	base := "/workspace/" + alg.ID
	switch {
	case strings.HasPrefix(then, "tl:"):
		return h.rd.Redirect(w, r, base+"/edit/"+section+"?tl="+url.QueryEscape(strings.TrimPrefix(then, "tl:")), "Saved.")
	case strings.HasPrefix(then, "add:"):
		return h.rd.Redirect(w, r, base+"/edit/"+section+"?tl="+tl+"&add="+url.QueryEscape(strings.TrimPrefix(then, "add:"))+"#f-"+strings.TrimPrefix(then, "add:"), "Saved.")
	case strings.HasPrefix(then, "section:") && slices.Contains(Sections, strings.TrimPrefix(then, "section:")):
		return h.rd.Redirect(w, r, base+"/edit/"+strings.TrimPrefix(then, "section:")+"?tl="+tl, "Saved.")
	}
	return h.rd.Redirect(w, r, base, "Saved.")
}

type conflictChange struct {
	Label, Theirs, Yours string
}

type conflictData struct {
	Algorithm *Algorithm
	Current   *Revision
	Section   string
	Action    string
	Changes   []conflictChange
	Values    url.Values // the form as submitted, to re-submit over the current version
}

// renderConflict shows what the other person saved beside what this person typed, and lets
// them save theirs over it (nothing is lost either way: the other version stays visible).
func (h *Handlers) renderConflict(w http.ResponseWriter, r *http.Request, alg *Algorithm, current *Revision, section, tl string, form *web.Form) error {
	mine := cloneSheet(current.Sheet)
	applySection(&mine, section, tl, form.Values)
	mine.normalise()
	theirs := newSectionView(alg, current, &current.Sheet, section, tl, nil, nil)
	yours := newSectionView(alg, current, &mine, section, tl, nil, nil)
	d := conflictData{Algorithm: alg, Current: current, Section: section,
		Action: "/workspace/" + alg.ID + "/edit/" + section, Values: url.Values{}}
	for i, f := range theirs.Fields {
		y := yours.Fields[i]
		if f.Value != y.Value || f.Kind == KindRows || f.Kind == KindStruct {
			if f.Kind == KindRows || f.Kind == KindStruct {
				a, _ := json.Marshal(reflectField(&current.Sheet, f.Name))
				b, _ := json.Marshal(reflectField(&mine, f.Name))
				if string(a) == string(b) {
					continue
				}
				d.Changes = append(d.Changes, conflictChange{Label: h.rd.T(r, f.Label), Theirs: string(a), Yours: string(b)})
				continue
			}
			d.Changes = append(d.Changes, conflictChange{Label: h.rd.T(r, f.Label), Theirs: f.Value, Yours: y.Value})
		}
	}
	for k, vs := range form.Values {
		if k != "version" {
			d.Values[k] = vs
		}
	}
	d.Values.Set("version", strconv.Itoa(current.Version))
	return h.rd.Render(w, r, http.StatusConflict, "workspace/conflict", web.Page{Title: h.rd.T(r, "Someone else changed this in the meantime."), Data: d})
}

// Preview shows the revision as its public fact sheet would look.
func (h *Handlers) Preview(w http.ResponseWriter, r *http.Request) error {
	alg, rev, err := h.owned(r)
	if err != nil {
		return err
	}
	return h.preview(w, r, alg, rev)
}

// AddOwner makes another author a co-owner.
func (h *Handlers) AddOwner(w http.ResponseWriter, r *http.Request) error {
	alg, _, err := h.owned(r)
	if err != nil {
		return err
	}
	f, err := web.ParseForm(r)
	if err != nil {
		return err
	}
	if err := h.store.AddOwner(r.Context(), alg.ID, strings.TrimSpace(f.Get("email")), ActorOf(r)); err != nil {
		if !h.rd.Fail(r, f, err) {
			return err
		}
		return h.renderOverview(w, r, http.StatusUnprocessableEntity, f)
	}
	return h.rd.Redirect(w, r, "/workspace/"+alg.ID+"#owners", "Co-owner added.")
}

// StartRevision opens a new draft revision of a published entry.
func (h *Handlers) StartRevision(w http.ResponseWriter, r *http.Request) error {
	alg, _, err := h.owned(r)
	if err != nil {
		return err
	}
	if _, err := h.store.NewRevision(r.Context(), alg.ID, ActorOf(r)); err != nil {
		return err
	}
	return h.rd.Redirect(w, r, "/workspace/"+alg.ID, "A new revision was started. The published one stays public until this one is approved.")
}

// problemView is a missing item as a link to the field that needs it.
type problemView struct {
	Href, Label, Message string
}

func (h *Handlers) problemViews(r *http.Request, algID string, rev *Revision, problems []Problem) []problemView {
	var out []problemView
	for _, p := range problems {
		href := "/workspace/" + algID + "/edit/" + p.Section + "?tl=" + rev.Sheet.Lang + "#f-" + p.Field
		if p.Section == "assessment" {
			href = "/workspace/" + algID + "/risk"
		}
		top, _, _ := strings.Cut(p.Field, ".")
		out = append(out, problemView{Href: href, Label: h.rd.T(r, FieldLabels[top]), Message: h.rd.T(r, p.Message, p.Args...)})
	}
	return out
}
