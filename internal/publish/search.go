package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/i18n"
)

// Index searches the public register: the table search_documents, which migration 006
// keeps equal to the latest published revision of every entry that is not unpublished,
// through triggers in the publishing transaction. Nothing here writes to it.
type Index struct {
	db database.Querier
}

// NewIndex returns the search index on db.
func NewIndex(db database.Querier) *Index { return &Index{db: db} }

// Orders of the result list.
const (
	SortRelevance = "relevance" // best match first; the default when there is a query
	SortChanged   = "changed"   // most recently published first; the default without one
	SortName      = "name"      // by name in the page's language
)

// PageSize is the number of results on a page.
const PageSize = 20

// maxQueryRunes bounds the search text: longer text finds nothing more, only costs more.
const maxQueryRunes = 200

// minFuzzyRunes is the shortest query matched by resemblance as well as by words: shorter
// ones ("bus") resemble too much by chance.
const minFuzzyRunes = 4

// Filters are the facets a search can be narrowed by, as the address names them.
var Filters = []string{"domain", "department", "risk", "status", "type"}

// Query is one search of the register, as the index page's address says it.
type Query struct {
	Text string
	Lang i18n.Lang
	// Filter values by name (see Filters); an empty or absent value does not filter.
	Domain, Department, Risk, Status, Type string
	Sort                                   string
	Page                                   int // from 1
}

// ParseQuery reads a query from an address. Values it does not know (an unknown risk tier,
// page=-1, sort=whatever) are dropped or clamped, never an error: a hand-edited address
// still shows a useful page.
func ParseQuery(v url.Values, lang i18n.Lang) Query {
	q := Query{Lang: lang, Text: searchText(v.Get("q"))}
	q.Domain = oneOf(v.Get("domain"), algorithms.Domains)
	q.Risk = oneOf(v.Get("risk"), algorithms.RiskCategories)
	q.Status = oneOf(v.Get("status"), algorithms.Statuses)
	q.Type = oneOf(v.Get("type"), algorithms.Types)
	q.Department = truncate(strings.TrimSpace(v.Get("department")), 300)
	q.Sort = oneOf(v.Get("sort"), []string{SortRelevance, SortChanged, SortName})
	if q.Sort == "" || (q.Sort == SortRelevance && q.Text == "") {
		q.Sort = SortChanged
		if q.Text != "" {
			q.Sort = SortRelevance
		}
	}
	q.Page, _ = strconv.Atoi(v.Get("page"))
	q.Page = max(q.Page, 1)
	return q
}

func oneOf(v string, allowed []string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return ""
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// Filter returns the value of filter name ("" when it does not filter).
func (q Query) Filter(name string) string {
	switch name {
	case "domain":
		return q.Domain
	case "department":
		return q.Department
	case "risk":
		return q.Risk
	case "status":
		return q.Status
	case "type":
		return q.Type
	}
	return ""
}

// Filtered reports whether any filter is set.
func (q Query) Filtered() bool {
	return slices.ContainsFunc(Filters, func(f string) bool { return q.Filter(f) != "" })
}

// Values returns the address parameters of q, without the defaults, so that every page of a
// search has one address.
func (q Query) Values() url.Values {
	v := url.Values{}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	for _, f := range Filters {
		if val := q.Filter(f); val != "" {
			v.Set(f, val)
		}
	}
	if (q.Text == "" && q.Sort != SortChanged) || (q.Text != "" && q.Sort != SortRelevance) {
		v.Set("sort", q.Sort)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

// Encode returns the query string of q, spaces as %20: html/template writes the "+" of
// url.Values.Encode as "&#43;" in an attribute, which is correct but unreadable.
func (q Query) Encode() string { return strings.ReplaceAll(q.Values().Encode(), "+", "%20") }

// Hit is one entry found: what its latest published revision says about it.
type Hit struct {
	AlgorithmID      string
	Slug             string
	Revision         int
	Original         string // the entry's original language
	Name             algorithms.Text
	Summary          algorithms.Text
	Department       algorithms.Text
	Domain           string
	RiskCategory     string
	Status           string
	Type             string
	PublishedAt      time.Time // of this revision: the entry's last change
	FirstPublishedAt time.Time
}

// FacetCount is how many entries a filter value would leave.
type FacetCount struct {
	Value string
	Count int
	// Label is the department's name in the search's language, where the entries give one
	// (the filter's value is the name in each entry's original language).
	Label string
}

// Results are one page of a search, with the counts behind its filters.
type Results struct {
	Query Query // as applied: the page clamped to the last one
	Total int
	Pages int
	Hits  []Hit
	// Facets holds, per filter, the count of each value among the entries matching the text
	// and every other filter: choosing that value would show that many.
	Facets map[string][]FacetCount
}

// search is the SQL of one search, built from fixed pieces: the language picks columns and
// a configuration from constant tables, and every value travels as an argument.
type search struct {
	from  string // the entries that match the text, as d (with m: their match)
	score string // relevance, for SortRelevance
	args  []any
}

var (
	tsvColumn   = map[i18n.Lang]string{i18n.Catalan: "tsv_ca", i18n.Spanish: "tsv_es", i18n.English: "tsv_en"}
	titleColumn = map[i18n.Lang]string{i18n.Catalan: "title_ca", i18n.Spanish: "title_es", i18n.English: "title_en"}
	tsConfig    = map[i18n.Lang]string{i18n.Catalan: "registry_ca", i18n.Spanish: "registry_es", i18n.English: "registry_en"}
	nameOrder   = map[i18n.Lang]string{i18n.Catalan: `d.name_ca COLLATE "ca-x-icu"`, i18n.Spanish: `d.name_es COLLATE "es-x-icu"`,
		i18n.English: `d.name_en COLLATE "en-x-icu"`}
)

// newSearch returns the FROM and score of q. Arguments $1–$5 are the filters, in the order
// of Filters; the text, when there is one, is $6.
//
// The entries that contain the words (websearch syntax: all words, "a phrase", or, -not)
// match, found through the GIN index of the page language's tsvector, and rank by the words
// in their name and short description. Only when no entry contains them does resemblance
// count (search_fuzzy, the trigram index), ranked by how alike: the query is then most
// likely misspelt, and comparing it with every entry that contains a common word would
// cost far more than it adds. Each branch selects only the columns a search shows, sorts
// or counts (documentColumns), never the large tsvectors.
func newSearch(q Query) search {
	s := search{from: "search_documents d", score: "0"}
	for _, f := range Filters {
		s.args = append(s.args, q.Filter(f))
	}
	if q.Text == "" {
		return s
	}
	lang := q.Lang
	if _, ok := tsvColumn[lang]; !ok {
		lang = i18n.Catalan
	}
	s.args = append(s.args, q.Text)
	tsq := fmt.Sprintf("websearch_to_tsquery('%s', $6)", tsConfig[lang])
	words := fmt.Sprintf("SELECT %s, ts_rank(d.%s, %s) AS score FROM search_documents d WHERE d.%s @@ %s",
		documentColumns, titleColumn[lang], tsq, tsvColumn[lang], tsq)
	if byResemblance(q.Text) {
		words += fmt.Sprintf(` UNION ALL SELECT %s, f.similarity FROM search_fuzzy($6) AS f
			JOIN search_documents d ON d.algorithm_id = f.algorithm_id
			WHERE NOT EXISTS (SELECT FROM search_documents WHERE %s @@ %s)`, documentColumns, tsvColumn[lang], tsq)
	}
	s.from = "(" + words + ") AS d"
	s.score = "d.score"
	return s
}

// documentColumns are the columns of search_documents that a search reads.
const documentColumns = `d.algorithm_id, d.slug, d.number, d.lang, d.name, d.description_short, d.department_names,
	d.domain, d.department, d.risk_category, d.status, d.type, d.published_at, d.first_published_at,
	d.name_ca, d.name_es, d.name_en`

// Matching returns the entries that the index's search finds for text in any of the three
// languages: those containing its words, or, when none does, those it resembles (a misspelt
// or unaccented word). It is the public API's q, so that the API and the index agree.
func (ix *Index) Matching(ctx context.Context, text string) ([]string, error) {
	text = searchText(text)
	var words []string
	for _, lang := range i18n.Langs {
		words = append(words, fmt.Sprintf("SELECT algorithm_id FROM search_documents WHERE %s @@ websearch_to_tsquery('%s', $1)",
			tsvColumn[lang], tsConfig[lang]))
	}
	sql := "WITH w AS (" + strings.Join(words, " UNION ") + ") SELECT algorithm_id::text FROM w"
	if byResemblance(text) {
		sql += " UNION SELECT algorithm_id::text FROM search_fuzzy($1) WHERE NOT EXISTS (SELECT FROM w)"
	}
	rows, err := ix.db.Query(ctx, sql, text)
	if err != nil {
		return nil, fmt.Errorf("publish: search: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("publish: search: %w", err)
	}
	return ids, nil
}

// searchText is the text of a search as it is run: single spaces, at most maxQueryRunes.
func searchText(s string) string { return truncate(oneLine(s), maxQueryRunes) }

// byResemblance reports whether text is long enough to be matched by resemblance too.
func byResemblance(text string) bool {
	return utf8.RuneCountInString(strings.Map(keepLetters, text)) >= minFuzzyRunes
}

func keepLetters(r rune) rune {
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return r
	}
	return -1
}

// filterColumns are the columns of search_documents that the filters compare.
var filterColumns = map[string]string{"domain": "domain", "department": "department", "risk": "risk_category",
	"status": "status", "type": "type"}

// filterSQL is the condition of every filter but the one named except ("" for all).
func filterSQL(except string) string {
	var conds []string
	for i, f := range Filters {
		if f != except {
			conds = append(conds, fmt.Sprintf("($%d = '' OR %s = $%d)", i+1, filterColumns[f], i+1))
		}
	}
	return strings.Join(conds, " AND ")
}

// facetSQL counts, for each filter, the values among the matching entries that meet the
// other filters. The row whose facet is empty holds the total that meets them all. A
// department also comes with its name in lang.
//
// One pass over the matches does it all: a grouping set per filter (and the empty one for
// the total), each counting only the rows that meet the other filters (FILTER). Separate
// GROUP BYs over a materialised list of matches took twice as long, sorting it once per
// filter.
func facetSQL(s search, lang i18n.Lang) string {
	if _, ok := tsvColumn[lang]; !ok { // lang is written into the query: one of ours only
		lang = i18n.Catalan
	}
	var cols []string
	for _, f := range Filters {
		cols = append(cols, "d."+filterColumns[f])
	}
	grouping := "GROUPING(" + strings.Join(cols, ", ") + ")"
	all := 1<<len(Filters) - 1 // GROUPING's bits: 1 for each column not grouped by
	facet := []string{fmt.Sprintf("WHEN %d THEN ''", all)}
	count := []string{fmt.Sprintf("WHEN %d THEN count(*) FILTER (WHERE %s)", all, filterSQL(""))}
	label := "''"
	sets := []string{"()"}
	for i, f := range Filters {
		mask := all &^ (1 << (len(Filters) - 1 - i))
		facet = append(facet, fmt.Sprintf("WHEN %d THEN '%s'", mask, f))
		count = append(count, fmt.Sprintf("WHEN %d THEN count(*) FILTER (WHERE %s)", mask, filterSQL(f)))
		sets = append(sets, "("+cols[i]+")")
		if f == "department" {
			label = fmt.Sprintf("CASE %s WHEN %d THEN min(COALESCE(d.department_names ->> '%s', '')) FILTER (WHERE %s) ELSE '' END",
				grouping, mask, lang, filterSQL(f))
		}
	}
	return fmt.Sprintf(`SELECT facet, value, n, label FROM (
		SELECT CASE %[1]s %[2]s END, COALESCE(%[3]s, ''), CASE %[1]s %[4]s END, %[5]s
		FROM %[6]s GROUP BY GROUPING SETS (%[7]s)) AS u (facet, value, n, label)
	WHERE n > 0 OR facet = ''
	ORDER BY facet, value COLLATE "und-x-icu"`,
		grouping, strings.Join(facet, " "), strings.Join(cols, ", "), strings.Join(count, " "), label, s.from, strings.Join(sets, ", "))
}

const hitColumns = `d.algorithm_id, d.slug, d.number, d.lang, d.name, d.description_short, d.department_names,
	d.domain, d.risk_category, d.status, d.type, d.published_at, d.first_published_at`

func scanHit(row pgx.CollectableRow) (Hit, error) {
	var h Hit
	var name, summary, dept []byte
	if err := row.Scan(&h.AlgorithmID, &h.Slug, &h.Revision, &h.Original, &name, &summary, &dept,
		&h.Domain, &h.RiskCategory, &h.Status, &h.Type, &h.PublishedAt, &h.FirstPublishedAt); err != nil {
		return h, err
	}
	for _, t := range []struct {
		raw []byte
		to  *algorithms.Text
	}{{name, &h.Name}, {summary, &h.Summary}, {dept, &h.Department}} {
		if err := json.Unmarshal(t.raw, t.to); err != nil {
			return h, fmt.Errorf("publish: search document %s: %w", h.Slug, err)
		}
	}
	return h, nil
}

type facetRow struct {
	facet string
	FacetCount
}

// pageSQL selects page q.Page of the entries s finds, in q's order.
func pageSQL(s search, q Query) (string, []any) {
	order := map[string]string{
		SortRelevance: s.score + " DESC, d.published_at DESC",
		SortChanged:   "d.published_at DESC",
		SortName:      nameOrder[q.Lang],
	}[q.Sort]
	if order == "" {
		order = "d.published_at DESC"
	}
	args := append(slices.Clip(s.args), PageSize, (q.Page-1)*PageSize)
	return fmt.Sprintf(`SELECT %s FROM %s WHERE %s ORDER BY %s, d.algorithm_id LIMIT $%d OFFSET $%d`,
		hitColumns, s.from, filterSQL(""), order, len(args)-1, len(args)), args
}

// Search runs q: the total, the facet counts and the page asked for (the last page when
// q.Page is beyond it).
func (ix *Index) Search(ctx context.Context, q Query) (*Results, error) {
	s := newSearch(q)
	res := &Results{Facets: map[string][]FacetCount{}}
	rows, err := ix.db.Query(ctx, facetSQL(s, q.Lang), s.args...)
	if err != nil {
		return nil, fmt.Errorf("publish: search facets: %w", err)
	}
	counts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (facetRow, error) {
		var c facetRow
		return c, row.Scan(&c.facet, &c.Value, &c.Count, &c.Label)
	})
	if err != nil {
		return nil, fmt.Errorf("publish: search facets: %w", err)
	}
	for _, c := range counts {
		if c.facet == "" {
			res.Total = c.Count
			continue
		}
		res.Facets[c.facet] = append(res.Facets[c.facet], c.FacetCount)
	}
	res.Pages = max(1, (res.Total+PageSize-1)/PageSize)
	q.Page = min(max(q.Page, 1), res.Pages)
	res.Query = q
	if res.Total == 0 {
		return res, nil
	}
	sql, args := pageSQL(s, q)
	rows, err = ix.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("publish: search: %w", err)
	}
	if res.Hits, err = pgx.CollectRows(rows, scanHit); err != nil {
		return nil, fmt.Errorf("publish: search: %w", err)
	}
	return res, nil
}

// Overview is what the home page counts.
type Overview struct {
	Total  int
	ByRisk []FacetCount // in the order of the tiers, only those with entries
	Latest []Hit        // the most recently changed entries, newest first
}

// Overview counts the public entries and returns the n most recently changed ones: each
// entry once, with its latest publication (a new entry, an update or a retirement).
func (ix *Index) Overview(ctx context.Context, n int) (*Overview, error) {
	o := &Overview{}
	rows, err := ix.db.Query(ctx, `SELECT risk_category, count(*) FROM search_documents GROUP BY risk_category`)
	if err != nil {
		return nil, fmt.Errorf("publish: overview: %w", err)
	}
	counts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (FacetCount, error) {
		var c FacetCount
		return c, row.Scan(&c.Value, &c.Count)
	})
	if err != nil {
		return nil, fmt.Errorf("publish: overview: %w", err)
	}
	for _, tier := range algorithms.RiskCategories {
		for _, c := range counts {
			if c.Value == tier {
				o.ByRisk = append(o.ByRisk, c)
			}
		}
	}
	for _, c := range counts {
		o.Total += c.Count
	}
	rows, err = ix.db.Query(ctx, `SELECT `+hitColumns+` FROM search_documents d
		ORDER BY d.published_at DESC, d.algorithm_id LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("publish: latest: %w", err)
	}
	if o.Latest, err = pgx.CollectRows(rows, scanHit); err != nil {
		return nil, fmt.Errorf("publish: latest: %w", err)
	}
	return o, nil
}
