package publish

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/markdown"
	"github.com/civictech/registry/internal/web"
)

// feedSize is how many changes the register's feed lists.
const feedSize = 50

// The Atom (RFC 4287) document, written by encoding/xml, which escapes every value.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel      string `xml:"rel,attr"`
	Type     string `xml:"type,attr,omitempty"`
	Hreflang string `xml:"hreflang,attr,omitempty"`
	Href     string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomEntry struct {
	ID        string         `xml:"id"`
	Title     string         `xml:"title"`
	Updated   string         `xml:"updated"`
	Published string         `xml:"published"`
	Links     []atomLink     `xml:"link"`
	Author    *atomPerson    `xml:"author"`
	Summary   atomText       `xml:"summary"`
	Category  []atomCategory `xml:"category"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

// The kinds of change a feed entry announces, as its category term.
const (
	changeNew     = "new"
	changeUpdated = "updated"
	changeRetired = "retired"
)

// changeLabels name the kinds of change in the feed reader's language.
var changeLabels = map[string]string{ // i18n
	changeNew:     "New entry",
	changeUpdated: "Updated entry",
	changeRetired: "Retirement",
}

// change is a published revision with the kind of change it made.
type change struct {
	rec  *algorithms.Record
	kind string
}

// RegisterFeed serves the register's latest changes as an Atom feed: new entries, updates
// and retirements, newest first.
func (p *Public) RegisterFeed(w http.ResponseWriter, r *http.Request) error {
	lang := web.LangFrom(r.Context())
	// The feed depends on every entry: it carries no algorithm ID, so that any
	// invalidation drops it.
	return p.cached(w, r, "feed|"+string(lang), func(ctx context.Context) (*cachedPage, error) {
		changes, err := p.latestChanges(ctx, feedSize)
		if err != nil {
			return nil, err
		}
		t := p.pages.translator(lang)
		self := p.base() + "/" + string(lang) + "/feed.atom"
		feed := atomFeed{ID: self, Title: t("Algorithm Registry: latest changes"),
			Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: self},
				{Rel: "alternate", Type: "text/html", Hreflang: string(lang), Href: p.base() + "/" + string(lang) + "/"}}}
		return p.feedPage("", feed, changes, lang)
	})
}

// EntryFeed serves the published revisions of one entry as an Atom feed, newest first.
func (p *Public) EntryFeed(w http.ResponseWriter, r *http.Request) error {
	lang := web.LangFrom(r.Context())
	return p.entryPage(w, r, "entryfeed", "/feed.atom", func(ctx context.Context, alg *algorithms.Algorithm) (*cachedPage, error) {
		recs, err := p.history(ctx, alg.ID)
		if err != nil {
			return nil, err
		}
		changes := make([]change, 0, len(recs))
		for i, rec := range slices.Backward(recs) {
			changes = append(changes, change{rec: rec, kind: changeKind(rec, i == 0)})
		}
		t := p.pages.translator(lang)
		name, _ := inLang(recs[len(recs)-1].Name, string(lang), recs[len(recs)-1].Lang)
		page := p.base() + "/" + string(lang) + "/algorithms/" + alg.Slug
		// The ID is made from the algorithm's, not from its address, so that a renamed
		// entry (a new slug) keeps its feed.
		feed := atomFeed{ID: urn(alg.ID, "feed/"+string(lang)), Title: t("Changes to %s", name),
			Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: page + "/feed.atom"},
				{Rel: "alternate", Type: "text/html", Hreflang: string(lang), Href: page}}}
		return p.feedPage(alg.ID, feed, changes, lang)
	})
}

// latestChanges returns the n most recent publications of the register, newest first.
func (p *Public) latestChanges(ctx context.Context, n int) ([]change, error) {
	var out []change
	err := p.store.EachPublished(ctx, algorithms.EachOptions{AllVersions: true, Newest: n, Limit: n}, func(rec *algorithms.Record) error {
		out = append(out, change{rec: rec, kind: changeKind(rec, rec.First)})
		return nil
	})
	return out, err
}

// changeKind says what a published revision did to its entry.
func changeKind(rec *algorithms.Record, first bool) string {
	switch {
	case rec.Retired:
		return changeRetired
	case first:
		return changeNew
	}
	return changeUpdated
}

// newestFirst orders records by publication time, newest first, then by entry and
// number, so that the order is total.
func newestFirst(a, b *algorithms.Record) int {
	if c := b.PublishedAt.Compare(a.PublishedAt); c != 0 {
		return c
	}
	if c := strings.Compare(a.Slug, b.Slug); c != 0 {
		return c
	}
	return b.Revision - a.Revision
}

// feedPage fills in the feed's entries, author and date, and writes it as a cached page.
func (p *Public) feedPage(algorithmID string, feed atomFeed, changes []change, lang i18n.Lang) (*cachedPage, error) {
	if p.base() == "" {
		return nil, fmt.Errorf("publish: feeds need the register's base URL")
	}
	t := p.pages.translator(lang)
	feed.Lang = string(lang)
	feed.Author = atomPerson{Name: t("Algorithm Registry"), URI: p.base() + "/" + string(lang) + "/"}
	// An empty feed still needs a date: the Unix epoch says "nothing yet" and keeps the
	// page, and so its ETag, the same until something is published.
	updated := time.Unix(0, 0)
	if len(changes) > 0 {
		updated = changes[0].rec.PublishedAt
	}
	feed.Updated = rfc3339(updated)
	for _, c := range changes {
		feed.Entries = append(feed.Entries, p.atomEntry(c, lang, t))
	}
	body, err := xml.MarshalIndent(feed, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("publish: feed: %w", err)
	}
	body = append([]byte(xml.Header), body...)
	return newPage(algorithmID, append(body, '\n'), "application/atom+xml; charset=utf-8", updated), nil
}

// atomEntry describes one published revision.
func (p *Public) atomEntry(c change, lang i18n.Lang, t Translator) atomEntry {
	rec := c.rec
	l := string(lang)
	name, _ := inLang(rec.Name, l, rec.Lang)
	short, _ := inLang(rec.DescriptionShort, l, rec.Lang)
	note, _ := inLang(rec.RevisionNote, l, rec.Lang)
	summary := markdown.PlainText(short)
	if note = markdown.PlainText(note); note != "" {
		summary += "\n\n" + t("Change note:") + " " + note
	}
	if reason, _ := inLang(rec.EndReason, l, rec.Lang); c.kind == changeRetired && reason != "" {
		summary += "\n\n" + t("Reason for retirement:") + " " + markdown.PlainText(reason)
	}
	var author *atomPerson
	if org, _ := inLang(rec.Organization, l, rec.Lang); org != "" {
		author = &atomPerson{Name: oneLine(org)}
	}
	href := p.base() + "/" + l + "/algorithms/" + rec.Slug + "/versions/" + strconv.Itoa(rec.Revision)
	at := rfc3339(rec.PublishedAt)
	return atomEntry{
		ID:        urn(rec.UUID, "revision/"+strconv.Itoa(rec.Revision)+"/"+l),
		Title:     t("%s, revision %d", name, rec.Revision),
		Updated:   at,
		Published: at,
		Links:     []atomLink{{Rel: "alternate", Type: "text/html", Hreflang: l, Href: href}},
		Author:    author,
		Summary:   atomText{Type: "text", Text: summary},
		Category:  []atomCategory{{Term: c.kind, Label: t(changeLabels[c.kind])}},
	}
}

// urn names something of an algorithm for ever, as a name-based (version 5) UUID in the
// algorithm's UUID namespace: the same algorithm and name give the same URN on every
// instance and after every rename, and a published revision's number never changes.
func urn(algorithmID, name string) string {
	ns, err := uuid.Parse(algorithmID)
	if err != nil {
		ns = uuid.NameSpaceURL // not reached: algorithm IDs are UUIDs
	}
	return "urn:uuid:" + uuid.NewSHA1(ns, []byte(name)).String()
}

// base returns the register's public address without a trailing slash.
func (p *Public) base() string { return strings.TrimRight(p.BaseURL, "/") }

// rfc3339 writes a time as Atom wants it, in UTC to the second.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
