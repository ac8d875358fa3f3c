package apidoc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/opendata"
)

// records is a Source of fixed published records.
type records []*algorithms.Record

func (rs records) EachPublished(_ context.Context, _ algorithms.EachOptions, fn func(*algorithms.Record) error) error {
	for _, r := range rs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

const testBase = "https://algorismes.example.cat"

func testRecords() records {
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	return records{
		{Slug: "a", PublicationDate: "2024-03-01", PublishedAt: at("2025-06-01T10:00:00Z")},
		{Slug: "b", PublicationDate: "2023-11-15", PublishedAt: at("2025-09-30T08:30:00+02:00")},
		{Slug: "c", PublicationDate: "2024-01-20", PublishedAt: at("2024-01-20T12:00:00Z")},
	}
}

// fetch serves path with the handler and returns the answer.
func fetch(t *testing.T, h http.HandlerFunc, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec
}

func handle(t *testing.T, fn func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCatalogueSerialisationsAgree reads both served documents the way a harvester does:
// the Turtle parses (ours and, when installed, Raptor), and it holds exactly the triples of
// the JSON-LD.
func TestCatalogueSerialisationsAgree(t *testing.T) {
	h, err := New(testBase+"/", testPublisher, testRecords())
	if err != nil {
		t.Fatal(err)
	}
	ld := fetch(t, handle(t, h.CatalogJSONLD))
	ttl := fetch(t, handle(t, h.CatalogTurtle))
	for _, leak := range []string{"Barcelona", DefaultPublisher.URI, PlaceholderEmail} {
		if strings.Contains(ld.Body.String(), leak) || strings.Contains(ttl.Body.String(), leak) {
			t.Errorf("another council's catalogue names the default publisher's %q", leak)
		}
	}
	if ct := ld.Header().Get("Content-Type"); ct != "application/ld+json" {
		t.Errorf("JSON-LD Content-Type %q", ct)
	}
	if ct := ttl.Header().Get("Content-Type"); ct != "text/turtle; charset=utf-8" {
		t.Errorf("Turtle Content-Type %q", ct)
	}
	fromLD, ctx, err := expandJSONLD(ld.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for p, ns := range map[string]string{"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
		"foaf": "http://xmlns.com/foaf/0.1/", "vcard": "http://www.w3.org/2006/vcard/ns#"} {
		if ctx[p] != ns {
			t.Errorf("@context maps %s to %q, want %s", p, ctx[p], ns)
		}
	}
	fromTTL, err := parseTurtle(ttl.Body.String())
	if err != nil {
		t.Fatalf("the Turtle does not parse: %v\n%s", err, ttl.Body)
	}
	if !slices.Equal(sortedTriples(fromLD), sortedTriples(fromTTL)) {
		t.Errorf("the JSON-LD and the Turtle hold different triples")
	}
	checkWithRapper(t, ttl.Body.Bytes(), fromTTL)
	checkCatalogue(t, fromTTL)
}

// checkCatalogue asserts the triples DCAT-AP and the register's users rely on.
func checkCatalogue(t *testing.T, ts []triple) {
	t.Helper()
	has := map[string]bool{}
	for _, s := range sortedTriples(ts) {
		has[s] = true
	}
	const rdfType = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
	b := "<" + testBase
	want := []string{
		b + "/#catalog> " + rdfType + " <http://www.w3.org/ns/dcat#Catalog>",
		b + "/#dataset> " + rdfType + " <http://www.w3.org/ns/dcat#Dataset>",
		b + "/#api> " + rdfType + " <http://www.w3.org/ns/dcat#DataService>",
		b + "/#catalog> <http://www.w3.org/ns/dcat#dataset> " + b + "/#dataset>",
		b + "/#catalog> <http://purl.org/dc/terms/title> \"Catàleg del Registre d'algorismes\"@ca",
		b + "/#catalog> <http://purl.org/dc/terms/publisher> <" + testPublisher.URI + ">",
		"<" + testPublisher.URI + "> " + rdfType + " <http://xmlns.com/foaf/0.1/Agent>",
		"<" + testPublisher.URI + "> <http://xmlns.com/foaf/0.1/name> \"Ajuntament de Girona\"^^<" + xsdString + ">",
		// The latest publication of the register, in UTC.
		b + "/#catalog> <http://purl.org/dc/terms/modified> \"2025-09-30T06:30:00Z\"^^<http://www.w3.org/2001/XMLSchema#dateTime>",
		b + "/#dataset> <http://purl.org/dc/terms/issued> \"2023-11-15\"^^<http://www.w3.org/2001/XMLSchema#date>",
		b + "/#dataset> <http://purl.org/dc/terms/title> \"Algorithm Registry\"@en",
		b + "/#dataset> <http://purl.org/dc/terms/accrualPeriodicity> <http://publications.europa.eu/resource/authority/frequency/CONT>",
		b + "/#dataset> <http://purl.org/dc/terms/spatial> <" + testPublisher.PlaceURI + ">",
		"<" + testPublisher.PlaceURI + "> <http://purl.org/dc/terms/title> \"Girona\"^^<" + xsdString + ">",
		b + "/#dataset> <http://www.w3.org/ns/dcat#contactPoint> _:contact",
		"_:contact " + rdfType + " <http://www.w3.org/2006/vcard/ns#Kind>",
		"_:contact <http://www.w3.org/2006/vcard/ns#hasEmail> <mailto:dades@girona.test>",
		"_:period <http://www.w3.org/ns/dcat#startDate> \"2023-11-15\"^^<http://www.w3.org/2001/XMLSchema#date>",
		b + "/#distribution-csv> <http://www.w3.org/ns/dcat#downloadURL> " + b + "/api/v1/export.csv>",
		b + "/#distribution-csv> <http://www.w3.org/ns/dcat#mediaType> <https://www.iana.org/assignments/media-types/text/csv>",
		b + "/#distribution-csv> <http://purl.org/dc/terms/format> <http://publications.europa.eu/resource/authority/file-type/CSV>",
		b + "/#distribution-csv> <http://purl.org/dc/terms/conformsTo> " + b + "/api/v1/datapackage.json>",
		b + "/#distribution-json> <http://purl.org/dc/terms/license> <https://creativecommons.org/licenses/by/4.0/>",
		b + "/#distribution-eurocities> <http://purl.org/dc/terms/conformsTo> <" + eurocitiesStandard + ">",
		b + "/#api> <http://www.w3.org/ns/dcat#endpointURL> " + b + "/api/v1>",
		b + "/#api> <http://www.w3.org/ns/dcat#endpointDescription> " + b + "/api/openapi.json>",
		b + "/#api> <http://www.w3.org/ns/dcat#servesDataset> " + b + "/#dataset>",
	}
	for _, w := range want {
		if !has[w] {
			t.Errorf("the catalogue lacks the triple\n\t%s", w)
		}
	}
	// Every distribution has both URLs, absolute, a format and a licence.
	for _, d := range distributions(testBase) {
		s := b + "/#distribution-" + d.key + "> "
		for _, p := range []string{"<http://www.w3.org/ns/dcat#accessURL> ", "<http://www.w3.org/ns/dcat#downloadURL> "} {
			if !has[s+p+b+d.path+">"] {
				t.Errorf("distribution %s lacks %s%s", d.key, p, d.path)
			}
		}
		if !has[b+"/#dataset> <http://www.w3.org/ns/dcat#distribution> "+b+"/#distribution-"+d.key+">"] {
			t.Errorf("the dataset does not list distribution %s", d.key)
		}
	}
}

// TestCatalogueOfAnEmptyRegister leaves out what an empty register has no value for,
// rather than inventing one.
func TestCatalogueOfAnEmptyRegister(t *testing.T) {
	ld, ttl, err := writeCatalogue(testBase, DefaultPublisher, registerStats{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"modified", "issued", "temporal", "startDate"} {
		if strings.Contains(string(ld), s) || strings.Contains(string(ttl), s) {
			t.Errorf("an empty register's catalogue mentions %s", s)
		}
	}
	if _, err := parseTurtle(string(ttl)); err != nil {
		t.Fatal(err)
	}
}

func TestCatalogueRevalidates(t *testing.T) {
	h, err := New(testBase, testPublisher, testRecords())
	if err != nil {
		t.Fatal(err)
	}
	first := fetch(t, handle(t, h.CatalogTurtle))
	etag := first.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) || first.Header().Get("Last-Modified") != "Tue, 30 Sep 2025 06:30:00 GMT" {
		t.Fatalf("ETag %q, Last-Modified %q", etag, first.Header().Get("Last-Modified"))
	}
	again := fetch(t, handle(t, h.CatalogTurtle), "If-None-Match", etag)
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("a current copy: status %d, %d bytes; want 304 and none", again.Code, again.Body.Len())
	}
}

// testPublisher is another council's: nothing of the default may leak into its catalogue.
var testPublisher = Publisher{Name: "Ajuntament de Girona", URI: "http://datos.gob.es/recurso/sector-publico/org/Organismo/L01170792",
	ContactName: "Oficina de Dades", ContactEmail: "dades@girona.test", Place: "Girona", PlaceURI: "http://sws.geonames.org/3121456/"}

// TestPublisherMustBeComplete: New refuses a publisher a portal could not use.
func TestPublisherMustBeComplete(t *testing.T) {
	if err := DefaultPublisher.Validate(); err != nil {
		t.Fatalf("the default publisher: %v", err)
	}
	for name, change := range map[string]func(*Publisher){
		"no name":           func(p *Publisher) { p.Name = "" },
		"relative URI":      func(p *Publisher) { p.URI = "/org/1" },
		"e-mail":            func(p *Publisher) { p.ContactEmail = "dades at girona" },
		"e-mail with name":  func(p *Publisher) { p.ContactEmail = "Dades <dades@girona.test>" },
		"no place URI":      func(p *Publisher) { p.PlaceURI = "" },
		"no contact's name": func(p *Publisher) { p.ContactName = "" },
	} {
		p := testPublisher
		change(&p)
		if _, err := New(testBase, p, records{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestBaseAddressMustBeAbsolute(t *testing.T) {
	for _, base := range []string{"", "algorismes.example.cat", "/register", "ftp://x.test", "https://", "https://x.test/?a=b"} {
		if _, err := New(base, DefaultPublisher, records{}); err == nil {
			t.Errorf("New(%q) accepted it", base)
		}
	}
	h, err := New("https://x.test/a b/", DefaultPublisher, records{})
	if err != nil {
		t.Fatal(err)
	}
	if h.base != "https://x.test/a%20b" {
		t.Errorf("base %q: a space must be escaped, the final slash dropped", h.base)
	}
}

// TestLicenceAgreesWithDataPackage keeps the catalogue and the data package on one licence.
func TestLicenceAgreesWithDataPackage(t *testing.T) {
	pkg, err := opendata.DataPackage()
	if err != nil {
		t.Fatal(err)
	}
	var dp struct {
		Licenses []struct {
			Path string `json:"path"`
		} `json:"licenses"`
	}
	if err := json.Unmarshal(pkg, &dp); err != nil {
		t.Fatal(err)
	}
	if len(dp.Licenses) != 1 || dp.Licenses[0].Path != Licence {
		t.Errorf("data package licences %+v, catalogue %s", dp.Licenses, Licence)
	}
}
