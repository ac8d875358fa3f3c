package opendata

import (
	"encoding/json"
)

// ContentLicence is the licence of the register's content, as the data package states it.
// CC-BY-4.0 is what Barcelona's open data service (Open Data BCN) publishes under; a council
// with another licence changes it here.
const ContentLicence = "CC-BY-4.0"

// contentLicenceURL and contentLicenceTitle describe ContentLicence.
const (
	contentLicenceURL   = "https://creativecommons.org/licenses/by/4.0/"
	contentLicenceTitle = "Creative Commons Attribution 4.0 International"
)

// Frictionless Data Package (https://specs.frictionlessdata.io/data-package/) and Table
// Schema (https://specs.frictionlessdata.io/table-schema/) descriptors, with only what the
// register fills.
type (
	dataPackage struct {
		Profile     string     `json:"profile"`
		Name        string     `json:"name"`
		Title       string     `json:"title"`
		Description string     `json:"description"`
		Licenses    []license  `json:"licenses"`
		Resources   []resource `json:"resources"`
	}
	license struct {
		Name  string `json:"name"`
		Path  string `json:"path"`
		Title string `json:"title"`
	}
	resource struct {
		Profile     string       `json:"profile"`
		Name        string       `json:"name"`
		Path        string       `json:"path"`
		Title       string       `json:"title"`
		Description string       `json:"description"`
		Format      string       `json:"format"`
		Mediatype   string       `json:"mediatype"`
		Encoding    string       `json:"encoding"`
		Dialect     *dialect     `json:"dialect,omitempty"`
		Schema      *tableSchema `json:"schema,omitempty"`
		// JSONSchema is the Data Package v2 property for the schema of a JSON resource.
		JSONSchema string `json:"jsonSchema,omitempty"`
	}
	dialect struct {
		Delimiter      string `json:"delimiter"`
		LineTerminator string `json:"lineTerminator"`
		QuoteChar      string `json:"quoteChar"`
		DoubleQuote    bool   `json:"doubleQuote"`
		Header         bool   `json:"header"`
	}
	tableSchema struct {
		Fields        []schemaField `json:"fields"`
		PrimaryKey    []string      `json:"primaryKey"`
		MissingValues []string      `json:"missingValues"`
	}
	schemaField struct {
		Name        string       `json:"name"`
		Title       string       `json:"title"`
		Type        string       `json:"type"`
		Format      string       `json:"format,omitempty"`
		Description string       `json:"description"`
		Constraints *constraints `json:"constraints,omitempty"`
	}
	constraints struct {
		Required bool     `json:"required,omitempty"`
		Enum     []string `json:"enum,omitempty"`
	}
)

// DataPackage returns the data package descriptor (datapackage.json) of the exports. Its
// paths are relative to /api/v1/, where it is served beside them.
func DataPackage() ([]byte, error) {
	pkg := dataPackage{
		// Not "tabular-data-package": that profile requires every resource to be a table.
		Profile: "data-package",
		Name:    "algorithm-register",
		Title:   "Algorithm register",
		Description: "Every published entry of the public register of the algorithms the city council uses: " +
			"the latest published revision of each (add ?versions=all for every published revision; then uuid " +
			"and revision together identify a row). Text is written in the entry's original language (column " +
			"lang), with optional translations. Drafts and revisions under review are never included.",
		Licenses: []license{{Name: ContentLicence, Path: contentLicenceURL, Title: contentLicenceTitle}},
		Resources: []resource{
			{Profile: "tabular-data-resource", Name: "algorithms-csv", Path: "export.csv", Title: "Algorithms (CSV)",
				Description: "One row per entry. Text fields have one column per language (name_ca, name_es, name_en); " +
					"structured fields (" + structuredColumns() + ") hold JSON text.",
				Format: "csv", Mediatype: "text/csv", Encoding: "utf-8",
				Dialect: &dialect{Delimiter: ",", LineTerminator: "\n", QuoteChar: `"`, DoubleQuote: true, Header: true},
				Schema:  tableSchemaOf(Columns)},
			{Profile: "data-resource", Name: "algorithms-ndjson", Path: "export.ndjson", Title: "Algorithms (NDJSON)",
				Description: "One native record per line: the fact sheet with its language maps, the risk assessment " +
					"and the review outcome.",
				Format: "ndjson", Mediatype: "application/x-ndjson", Encoding: "utf-8"},
			{Profile: "data-resource", Name: "algorithms-json", Path: "export.json", Title: "Algorithms (JSON)",
				Description: "The native records as one JSON array.",
				Format:      "json", Mediatype: "application/json", Encoding: "utf-8"},
			{Profile: "data-resource", Name: "algorithms-eurocities", Path: "export/eurocities.json",
				Title: "Algorithms (Eurocities Algorithmic Transparency Standard v" + StandardVersion + ")",
				Description: "A JSON array with one registration per entry, with only the standard's attributes, " +
					"text in the entry's original language.",
				Format: "json", Mediatype: "application/json", Encoding: "utf-8", JSONSchema: "schema/eurocities.json"},
		},
	}
	return json.MarshalIndent(pkg, "", "  ")
}

// tableSchemaOf describes cols as a Table Schema; an empty cell is a missing value.
func tableSchemaOf(cols []Column) *tableSchema {
	s := &tableSchema{PrimaryKey: []string{"uuid"}, MissingValues: []string{""}}
	for _, c := range cols {
		f := schemaField{Name: c.Name, Title: c.Title, Type: c.Type, Format: c.Format, Description: c.Description}
		if c.Required || len(c.Enum) > 0 {
			f.Constraints = &constraints{Required: c.Required, Enum: c.Enum}
		}
		s.Fields = append(s.Fields, f)
	}
	return s
}

// structuredColumns names the columns that hold JSON text.
func structuredColumns() string {
	out := ""
	for _, c := range Columns {
		if c.Type == "array" || c.Type == "object" {
			if out != "" {
				out += ", "
			}
			out += c.Name
		}
	}
	return out
}
