package publish

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/web"
)

// filterLabels name the index page's filters.
var filterLabels = map[string]string{ // i18n
	"domain":     "Policy domain",
	"department": "Department",
	"risk":       "EU AI Act tier",
	"status":     "Status",
	"type":       "Kind of output",
}

// sortLabels name the orders of the result list.
var sortLabels = map[string]string{ // i18n
	SortRelevance: "Best match",
	SortChanged:   "Recently changed",
	SortName:      "Name",
}

// textView is a text in the page's language, or in another one (marked) when the entry has
// no translation.
type textView struct {
	Text     string
	Lang     string
	Fallback bool
}

func localise(t algorithms.Text, lang, original string) textView {
	text, fallback := t.In(lang, original, "ca", "es", "en")
	v := textView{Text: text, Lang: lang, Fallback: fallback}
	if fallback {
		for _, l := range []string{original, "ca", "es", "en"} {
			if t[l] != "" {
				v.Lang = l
				break
			}
		}
	}
	return v
}

// hitView is one entry in a result list or in the home page's latest changes.
type hitView struct {
	Href       string
	Name       textView
	Summary    textView
	Department textView
	Risk       string
	Status     string
	Changed    time.Time
	Revision   int
	Change     string // "new", "updated" or "retired"
}

func newHitView(h Hit, lang i18n.Lang) hitView {
	l := string(lang)
	v := hitView{Href: "/" + l + "/algorithms/" + h.Slug, Name: localise(h.Name, l, h.Original),
		Summary: localise(h.Summary, l, h.Original), Department: localise(h.Department, l, h.Original),
		Risk: h.RiskCategory, Status: h.Status, Changed: h.PublishedAt, Revision: h.Revision, Change: "updated"}
	switch {
	case h.Status == "retired":
		v.Change = "retired"
	case h.Revision == 1:
		v.Change = "new"
	}
	return v
}

// option is one choice of a filter or of the order, with its count when it is a filter's.
type option struct {
	Value, Label string
	Count        int
	Selected     bool
	Href         string
}

type filterView struct {
	Name, Label, Value string
	Options            []option
}

type pageLink struct {
	Number  int
	Href    string
	Current bool
	Gap     bool // an ellipsis before this page
}

type indexView struct {
	Q, Sort       string
	Sorts         []option
	Filters       []filterView
	Filtered      bool
	Total         int
	Hits          []hitView
	Page, Pages   int
	Links         []pageLink
	Prev, Next    string
	Base          string
	EmptyRegister bool
}

// cachedIndexPages is how many pages of the unfiltered list (in each language and order)
// are kept in the page cache: the index's landing pages, read far more than the rest.
// Searches and filtered lists are not cached, so that no one can fill the cache with them.
const cachedIndexPages = 10

// Index serves the register's index: full-text search, filters with counts, orders and
// pages, as a plain GET form that needs no JavaScript.
func (p *Public) Index(w http.ResponseWriter, r *http.Request) error {
	q := ParseQuery(r.URL.Query(), web.LangFrom(r.Context()))
	if q.Text == "" && !q.Filtered() && q.Page <= cachedIndexPages {
		return p.cached(w, r, "index|"+string(q.Lang)+"|"+q.Encode(), func(ctx context.Context) (*cachedPage, error) {
			body, err := p.indexPage(ctx, q)
			if err != nil {
				return nil, err
			}
			return newPage("", body, "text/html; charset=utf-8", time.Now()), nil
		})
	}
	body, err := p.indexPage(r.Context(), q)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(body)
	return err
}

// indexPage renders the index page of q. Like every public page it is the same for
// everyone: no session, no flash message.
func (p *Public) indexPage(ctx context.Context, q Query) ([]byte, error) {
	res, err := p.Search.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	t := p.pages.translator(q.Lang)
	v := newIndexView(t, res)
	title := t("Algorithms")
	if v.Q != "" {
		title = t("Search: %s", v.Q)
	}
	rest := "/algorithms"
	if qs := res.Query.Encode(); qs != "" {
		rest += "?" + qs
	}
	return p.rd.PageBytes(q.Lang, "public/index", web.Page{Title: title, Data: v, Alternates: alternates(rest)})
}

func newIndexView(t Translator, res *Results) indexView {
	q, lang := res.Query, res.Query.Lang
	v := indexView{Q: q.Text, Sort: q.Sort, Total: res.Total, Page: q.Page, Pages: res.Pages,
		Base: "/" + string(lang) + "/algorithms"}
	href := func(page int) string {
		qq := q
		qq.Page = page
		if s := qq.Encode(); s != "" {
			return v.Base + "?" + s
		}
		return v.Base
	}
	for _, h := range res.Hits {
		v.Hits = append(v.Hits, newHitView(h, lang))
	}
	for _, s := range []string{SortRelevance, SortChanged, SortName} {
		if s != SortRelevance || q.Text != "" {
			v.Sorts = append(v.Sorts, option{Value: s, Label: t(sortLabels[s]), Selected: s == q.Sort})
		}
	}
	for _, f := range Filters {
		fv := filterView{Name: f, Label: t(filterLabels[f]), Value: q.Filter(f)}
		for _, c := range facetOrder(f, res.Facets[f], fv.Value) {
			label := c.Value
			switch {
			case f != "department":
				label = t(c.Value)
			case c.Label != "":
				label = c.Label
			}
			fv.Options = append(fv.Options, option{Value: c.Value, Label: label, Count: c.Count, Selected: c.Value == fv.Value})
		}
		v.Filtered = v.Filtered || fv.Value != ""
		v.Filters = append(v.Filters, fv)
	}
	v.EmptyRegister = res.Total == 0 && q.Text == "" && !v.Filtered
	if q.Page > 1 {
		v.Prev = href(q.Page - 1)
	}
	if q.Page < res.Pages {
		v.Next = href(q.Page + 1)
	}
	for _, n := range pageNumbers(q.Page, res.Pages) {
		link := pageLink{Number: n, Href: href(n), Current: n == q.Page}
		if len(v.Links) > 0 && n > v.Links[len(v.Links)-1].Number+1 {
			link.Gap = true
		}
		v.Links = append(v.Links, link)
	}
	return v
}

// facetOrder returns a filter's values in their natural order (the standard's order for an
// enumeration, the database's alphabetical order for departments), keeping the chosen value
// even when nothing matches it, so that the form shows what is applied.
func facetOrder(filter string, counts []FacetCount, selected string) []FacetCount {
	var order []string
	switch filter {
	case "domain":
		order = algorithms.Domains
	case "risk":
		order = algorithms.RiskCategories
	case "status":
		order = algorithms.Statuses
	case "type":
		order = algorithms.Types
	}
	out := slices.Clone(counts)
	if selected != "" && !slices.ContainsFunc(out, func(c FacetCount) bool { return c.Value == selected }) {
		out = append(out, FacetCount{Value: selected})
	}
	out = slices.DeleteFunc(out, func(c FacetCount) bool { return c.Value == "" })
	if order != nil {
		slices.SortStableFunc(out, func(a, b FacetCount) int {
			return slices.Index(order, a.Value) - slices.Index(order, b.Value)
		})
	}
	return out
}

// pageNumbers returns the page numbers to link: the first, the last, and two either side of
// the current one.
func pageNumbers(cur, pages int) []int {
	var out []int
	for n := 1; n <= pages; n++ {
		if n == 1 || n == pages || (n >= cur-2 && n <= cur+2) {
			out = append(out, n)
		}
	}
	return out
}

// homeView is what the home page shows.
type homeView struct {
	Total  int
	ByRisk []option
	Latest []hitView
}

// latestOnHome is how many recent changes the home page lists.
const latestOnHome = 5

// Home serves the public front page: what the register is, its counts, the search box and
// the latest changes. It is cached whole, per language, and dropped by every Invalidate,
// since any publication changes it.
func (p *Public) Home(w http.ResponseWriter, r *http.Request) error {
	lang := web.LangFrom(r.Context())
	return p.cached(w, r, "home|"+string(lang), func(ctx context.Context) (*cachedPage, error) {
		o, err := p.Search.Overview(ctx, latestOnHome)
		if err != nil {
			return nil, err
		}
		v := homeView{Total: o.Total}
		for _, c := range o.ByRisk {
			v.ByRisk = append(v.ByRisk, option{Value: c.Value, Count: c.Count,
				Href: "/" + string(lang) + "/algorithms?risk=" + url.PathEscape(c.Value)})
		}
		modified := time.Now()
		for i, h := range o.Latest {
			if i == 0 {
				modified = h.PublishedAt
			}
			v.Latest = append(v.Latest, newHitView(h, lang))
		}
		body, err := p.rd.PageBytes(lang, "home", web.Page{Data: v, Alternates: alternates("/")})
		if err != nil {
			return nil, err
		}
		return newPage("", body, "text/html; charset=utf-8", modified), nil
	})
}
