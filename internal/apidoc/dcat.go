package apidoc

import (
	"context"
	"strings"
	"time"

	"github.com/civictech/registry/internal/algorithms"
)

// Licence of the register's content: the data package (opendata) states the same one.
const (
	Licence      = "https://creativecommons.org/licenses/by/4.0/"
	licenceTitle = "Creative Commons Attribution 4.0 International"
)

// Controlled vocabularies DCAT-AP asks for.
const (
	euLanguage  = "http://publications.europa.eu/resource/authority/language/"
	euFileType  = "http://publications.europa.eu/resource/authority/file-type/"
	euTheme     = "http://publications.europa.eu/resource/authority/data-theme/"
	euFrequency = "http://publications.europa.eu/resource/authority/frequency/"
	euAccess    = "http://publications.europa.eu/resource/authority/access-right/"
	ianaMedia   = "https://www.iana.org/assignments/media-types/"
	// localAuthority is the ADMS publisher type of a city council.
	localAuthority = "http://purl.org/adms/publishertype/LocalAuthority"
	openAPISpec    = "https://spec.openapis.org/oas/v3.1.0"
	// eurocitiesStandard is the standard's own schema of a registration, as published by its
	// maintainers (opendata's EurocitiesEntry follows it).
	eurocitiesStandard = "https://standaard.algoritmeregister.org/schemas/registration-v0.3.1.schema.json"
)

// euLanguages are the EU codes of algorithms.Languages.
var euLanguages = map[string]string{"ca": "CAT", "es": "SPA", "en": "ENG"}

// texts is a text in each language of the register, in its order.
type texts map[string]string

func (t texts) terms() []term {
	var out []term
	for _, l := range algorithms.Languages {
		if v, ok := t[l]; ok {
			out = append(out, text(v, l))
		}
	}
	return out
}

// registerStats is what the catalogue says of the register's content.
type registerStats struct {
	first    string    // date of the earliest publication, YYYY-MM-DD ("" for an empty register)
	modified time.Time // time of the latest publication (zero for an empty register)
}

// statsOf reads the latest published revision of every entry, row by row.
func statsOf(ctx context.Context, src Source) (registerStats, error) {
	var st registerStats
	err := src.EachPublished(ctx, algorithms.EachOptions{}, func(rec *algorithms.Record) error {
		if st.first == "" || rec.PublicationDate < st.first {
			st.first = rec.PublicationDate
		}
		if rec.PublishedAt.After(st.modified) {
			st.modified = rec.PublishedAt
		}
		return nil
	})
	return st, err
}

// distribution is one export, as the catalogue lists it.
type distribution struct {
	key, path   string
	title, desc texts
	fileType    string // EU file-type code
	mediaType   string // IANA media type; "" when none is registered
	conformsTo  []string
}

func distributions(base string) []distribution {
	record := base + RecordSchemaPath
	return []distribution{
		{key: "json", path: "/api/v1/export.json", fileType: "JSON", mediaType: "application/json", conformsTo: []string{record},
			title: texts{"ca": "Algorismes (JSON)", "es": "Algoritmos (JSON)", "en": "Algorithms (JSON)"},
			desc: texts{"ca": "Totes les entrades publicades en una matriu JSON de registres natius. Amb ?versions=all, totes les revisions publicades.",
				"es": "Todas las entradas publicadas en una matriz JSON de registros nativos. Con ?versions=all, todas las revisiones publicadas.",
				"en": "Every published entry as a JSON array of native records. With ?versions=all, every published revision."}},
		// NDJSON has no IANA registration and no entry in the EU file-type list that could
		// be confirmed: JSON is the nearest format, and the media type is left out rather
		// than invented.
		{key: "ndjson", path: "/api/v1/export.ndjson", fileType: "JSON", conformsTo: []string{record},
			title: texts{"ca": "Algorismes (NDJSON)", "es": "Algoritmos (NDJSON)", "en": "Algorithms (NDJSON)"},
			desc: texts{"ca": "Un registre natiu per línia (JSON delimitat per salts de línia).",
				"es": "Un registro nativo por línea (JSON delimitado por saltos de línea).",
				"en": "One native record per line (newline-delimited JSON)."}},
		{key: "csv", path: "/api/v1/export.csv", fileType: "CSV", mediaType: "text/csv", conformsTo: []string{base + "/api/v1/datapackage.json"},
			title: texts{"ca": "Algorismes (CSV)", "es": "Algoritmos (CSV)", "en": "Algorithms (CSV)"},
			desc: texts{"ca": "Una fila per entrada, amb una columna per llengua per als textos, descrita pel paquet de dades (datapackage.json).",
				"es": "Una fila por entrada, con una columna por lengua para los textos, descrita por el paquete de datos (datapackage.json).",
				"en": "One row per entry, with a column per language for text, described by the data package (datapackage.json)."}},
		{key: "eurocities", path: "/api/v1/export/eurocities.json", fileType: "JSON", mediaType: "application/json",
			conformsTo: []string{eurocitiesStandard, base + "/api/v1/schema/eurocities.json"},
			title: texts{"ca": "Algorismes (estàndard de transparència algorítmica d'Eurocities v0.3.1)",
				"es": "Algoritmos (estándar de transparencia algorítmica de Eurocities v0.3.1)",
				"en": "Algorithms (Eurocities Algorithmic Transparency Standard v0.3.1)"},
			desc: texts{"ca": "Un registre per entrada amb només els atributs de l'estàndard, amb el text en la llengua original de l'entrada.",
				"es": "Un registro por entrada con solo los atributos del estándar, con el texto en la lengua original de la entrada.",
				"en": "One registration per entry with only the standard's attributes, the text in the entry's original language."}},
	}
}

// catalogue describes the register as a DCAT-AP 3 catalogue served at base.
func catalogue(base string, pub Publisher, st registerStats) *graph {
	g := &graph{}
	cat, ds, api := iri(base+"/#catalog"), iri(base+"/#dataset"), iri(base+"/#api")
	var langs []term
	for _, l := range algorithms.Languages {
		langs = append(langs, iri(euLanguage+euLanguages[l]))
	}
	modified := []term{}
	if !st.modified.IsZero() {
		modified = append(modified, typed(st.modified.UTC().Format(time.RFC3339), nsXSD+"dateTime"))
	}

	g.add(cat, nsDCAT+"Catalog").
		set(nsDCT+"title", texts{"ca": "Catàleg del Registre d'algorismes", "es": "Catálogo del Registro de algoritmos",
			"en": "Algorithm Registry catalogue"}.terms()...).
		set(nsDCT+"description", texts{
			"ca": "Dades obertes del registre públic dels algorismes que utilitza l'Ajuntament i de la revisió ètica que ha superat cadascun.",
			"es": "Datos abiertos del registro público de los algoritmos que utiliza el Ayuntamiento y de la revisión ética que ha superado cada uno.",
			"en": "Open data from the public register of the algorithms the city council uses, and of the ethics review each one passed."}.terms()...).
		set(nsDCT+"publisher", iri(pub.URI)).
		set(nsFOAF+"homepage", iri(base+"/")).
		set(nsDCT+"language", langs...).
		set(nsDCT+"license", iri(Licence)).
		set(nsDCT+"modified", modified...).
		set(nsDCAT+"themeTaxonomy", iri(strings.TrimSuffix(euTheme, "/"))).
		set(nsDCAT+"dataset", ds).
		set(nsDCAT+"service", api)

	dists := distributions(base)
	dataset(g, ds, base, pub, st, langs, modified, dists)
	for _, d := range dists {
		u := iri(base + d.path)
		n := g.add(iri(base+"/#distribution-"+d.key), nsDCAT+"Distribution").
			set(nsDCT+"title", d.title.terms()...).
			set(nsDCT+"description", d.desc.terms()...).
			set(nsDCAT+"accessURL", u).
			set(nsDCAT+"downloadURL", u).
			set(nsDCT+"format", iri(euFileType+d.fileType))
		if d.mediaType != "" {
			n.set(nsDCAT+"mediaType", iri(ianaMedia+d.mediaType))
		}
		n.set(nsDCT+"license", iri(Licence)).set(nsDCT+"modified", modified...)
		for _, c := range d.conformsTo {
			n.set(nsDCT+"conformsTo", iri(c))
		}
	}
	service(g, api, ds, base, pub)
	agents(g, base, pub, st)
	return g
}

// dataset describes the register's content: one dataset, the published entries.
func dataset(g *graph, ds term, base string, pub Publisher, st registerStats, langs, modified []term, dists []distribution) {
	var landing, distTerms []term
	for _, l := range algorithms.Languages {
		landing = append(landing, iri(base+"/"+l+"/algorithms"))
	}
	for _, d := range dists {
		distTerms = append(distTerms, iri(base+"/#distribution-"+d.key))
	}
	n := g.add(ds, nsDCAT+"Dataset").
		set(nsDCT+"title", texts{"ca": "Registre d'algorismes", "es": "Registro de algoritmos", "en": "Algorithm Registry"}.terms()...).
		set(nsDCT+"description", texts{
			"ca": "Totes les entrades publicades del registre: la fitxa de cada algorisme que utilitza l'Ajuntament (finalitat, dades, funcionament, riscos, supervisió humana), la categoria de risc segons el Reglament europeu d'intel·ligència artificial, el nivell d'impacte i el resultat de la revisió ètica. Els textos són en la llengua original de cada entrada, amb traduccions opcionals. No s'hi inclouen esborranys ni revisions en curs.",
			"es": "Todas las entradas publicadas del registro: la ficha de cada algoritmo que utiliza el Ayuntamiento (finalidad, datos, funcionamiento, riesgos, supervisión humana), la categoría de riesgo según el Reglamento europeo de inteligencia artificial, el nivel de impacto y el resultado de la revisión ética. Los textos están en la lengua original de cada entrada, con traducciones opcionales. No se incluyen borradores ni revisiones en curso.",
			"en": "Every published entry of the register: the fact sheet of each algorithm the city council uses (purpose, data, how it works, risks, human oversight), its risk category under the EU Artificial Intelligence Act, its impact level and the outcome of its ethics review. Text is in each entry's original language, with optional translations. Drafts and revisions under review are never included."}.terms()...).
		set(nsDCT+"identifier", literal(ds.iri)).
		set(nsDCAT+"keyword", keywords()...).
		set(nsDCAT+"theme", iri(euTheme+"GOVE"), iri(euTheme+"TECH")).
		set(nsDCT+"publisher", iri(pub.URI)).
		set(nsDCAT+"contactPoint", blankNode("contact")).
		set(nsDCT+"spatial", iri(pub.PlaceURI)).
		set(nsDCT+"accrualPeriodicity", iri(euFrequency+"CONT")).
		set(nsDCT+"accessRights", iri(euAccess+"PUBLIC")).
		set(nsDCT+"language", langs...).
		set(nsDCAT+"landingPage", landing...)
	if st.first != "" {
		n.set(nsDCT+"temporal", blankNode("period")).set(nsDCT+"issued", typed(st.first, nsXSD+"date"))
	}
	n.set(nsDCT+"modified", modified...).set(nsDCAT+"distribution", distTerms...)
}

func keywords() []term {
	words := map[string][]string{
		"ca": {"algorismes", "intel·ligència artificial", "transparència algorítmica", "Reglament d'intel·ligència artificial", "ètica de dades"},
		"es": {"algoritmos", "inteligencia artificial", "transparencia algorítmica", "Reglamento de inteligencia artificial", "ética de datos"},
		"en": {"algorithms", "artificial intelligence", "algorithmic transparency", "AI Act", "data ethics"},
	}
	var out []term
	for _, l := range algorithms.Languages {
		for _, w := range words[l] {
			out = append(out, text(w, l))
		}
	}
	return out
}

// service describes the JSON API as a DCAT data service.
func service(g *graph, api, ds term, base string, pub Publisher) {
	g.add(api, nsDCAT+"DataService").
		set(nsDCT+"title", texts{"ca": "API del Registre d'algorismes", "es": "API del Registro de algoritmos",
			"en": "Algorithm Registry API"}.terms()...).
		set(nsDCT+"description", texts{
			"ca": "API JSON de lectura lliure: les entrades publicades amb filtres i paginació, el seu historial i les exportacions.",
			"es": "API JSON de lectura libre: las entradas publicadas con filtros y paginación, su historial y las exportaciones.",
			"en": "JSON API anyone may read: the published entries with filters and pagination, their history and the exports."}.terms()...).
		set(nsDCAT+"endpointURL", iri(base+"/api/v1")).
		set(nsDCAT+"endpointDescription", iri(base+OpenAPIPath)).
		set(nsDCT+"conformsTo", iri(openAPISpec)).
		set(nsDCAT+"servesDataset", ds).
		set(nsDCT+"publisher", iri(pub.URI)).
		set(nsDCT+"license", iri(Licence)).
		set(nsDCT+"accessRights", iri(euAccess+"PUBLIC"))
}

// agents describes who and what the catalogue refers to: publisher, contact, licence,
// coverage and the standards the distributions follow.
func agents(g *graph, base string, pub Publisher, st registerStats) {
	g.add(iri(pub.URI), nsFOAF+"Agent").
		set(nsFOAF+"name", literal(pub.Name)).
		set(nsDCT+"type", iri(localAuthority))
	g.add(blankNode("contact"), nsVCard+"Kind").
		set(nsVCard+"fn", literal(pub.ContactName)).
		set(nsVCard+"hasEmail", iri("mailto:"+pub.ContactEmail)).
		set(nsVCard+"hasURL", iri(base+"/"))
	if st.first != "" {
		g.add(blankNode("period"), nsDCT+"PeriodOfTime").
			set(nsDCAT+"startDate", typed(st.first, nsXSD+"date"))
	}
	g.add(iri(Licence), nsDCT+"LicenseDocument").set(nsDCT+"title", text(licenceTitle, "en"))
	g.add(iri(pub.PlaceURI), nsDCT+"Location").set(nsDCT+"title", literal(pub.Place))
	g.add(iri(eurocitiesStandard), nsDCT+"Standard").
		set(nsDCT+"title", text("Eurocities Algorithmic Transparency Standard v0.3.1", "en"))
	g.add(iri(base+RecordSchemaPath), nsDCT+"Standard").
		set(nsDCT+"title", text("JSON Schema of the native record", "en"))
	g.add(iri(base+"/api/v1/datapackage.json"), nsDCT+"Standard").
		set(nsDCT+"title", text("Frictionless data package of the CSV export", "en"))
	g.add(iri(base+"/api/v1/schema/eurocities.json"), nsDCT+"Standard").
		set(nsDCT+"title", text("JSON Schema of the Eurocities export", "en"))
}
