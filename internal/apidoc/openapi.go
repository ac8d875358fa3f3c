package apidoc

import (
	_ "embed"
	"fmt"

	"github.com/civictech/registry/internal/opendata"
)

// Addresses of the documents this package serves.
const (
	OpenAPIPath       = "/api/openapi.json"
	RecordSchemaPath  = "/api/v1/schema/algorithm.json"
	CatalogJSONLDPath = "/catalog.jsonld"
	CatalogTurtlePath = "/catalog.ttl"
)

// openapiTemplate is the hand-written part of the OpenAPI document: every route, its
// parameters, bodies and answers, and the schemas of what only the API sends. The schemas of
// the record and the fact sheet, and the Eurocities schema, are added at start-up from the
// same sources as the exports, so that the document cannot drift from them; the route
// coverage test (internal/server/apidoc_test.go) keeps the paths in step with the router.
//
//go:embed openapi.json
var openapiTemplate []byte

// RecordSchema returns the JSON Schema (draft 2020-12) of the native record, identified by
// its address under baseURL.
func RecordSchema(baseURL string) ([]byte, error) {
	g := newSchemas(defsRef)
	s, err := g.record()
	if err != nil {
		return nil, err
	}
	doc := obj("$schema", "https://json-schema.org/draft/2020-12/schema", "$id", baseURL+RecordSchemaPath)
	for _, k := range s.keys {
		doc.set(k, s.vals[k])
	}
	doc.set("$defs", g.defs)
	return marshalDocument(doc)
}

// OpenAPI returns the OpenAPI 3.1 document of the register served at baseURL.
func OpenAPI(baseURL string) ([]byte, error) {
	v, err := decodeOrdered(openapiTemplate)
	if err != nil {
		return nil, fmt.Errorf("apidoc: openapi.json: %w", err)
	}
	doc, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("apidoc: openapi.json is not an object")
	}
	doc.set("servers", []any{obj("url", baseURL, "description", "This register")})
	comps, err := doc.child("components")
	if err != nil {
		return nil, err
	}
	schemas, err := comps.child("schemas")
	if err != nil {
		return nil, err
	}
	g := newSchemas(componentsRef)
	record, err := g.record()
	if err != nil {
		return nil, err
	}
	sheet, err := g.factSheet()
	if err != nil {
		return nil, err
	}
	// Enumerations the API's own schemas and parameters name, whether or not a record uses them.
	for _, e := range enumerations() {
		g.enumRef(e.values)
	}
	euro, err := decodeOrdered(opendata.EurocitiesSchema())
	if err != nil {
		return nil, fmt.Errorf("apidoc: Eurocities schema: %w", err)
	}
	generated := obj("Algorithm", record, "FactSheet", sheet, "EurocitiesEntry", euro)
	for _, k := range g.defs.keys {
		generated.set(k, g.defs.vals[k])
	}
	for _, k := range generated.keys {
		if _, dup := schemas.get(k); dup {
			return nil, fmt.Errorf("apidoc: openapi.json defines %s, which is generated", k)
		}
		schemas.set(k, generated.vals[k])
	}
	return marshalDocument(doc)
}
