package opendata_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/civictech/registry/internal/opendata"
)

type pkgField struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Format      string `json:"format"`
	Description string `json:"description"`
	Constraints struct {
		Required bool     `json:"required"`
		Enum     []string `json:"enum"`
	} `json:"constraints"`
}

type pkgDescriptor struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	Licenses []struct {
		Name string `json:"name"`
		Path string `json:"path"`
	} `json:"licenses"`
	Resources []struct {
		Name      string `json:"name"`
		Path      string `json:"path"`
		Format    string `json:"format"`
		Mediatype string `json:"mediatype"`
		Encoding  string `json:"encoding"`
		Schema    *struct {
			Fields     []pkgField `json:"fields"`
			PrimaryKey []string   `json:"primaryKey"`
		} `json:"schema"`
	} `json:"resources"`
}

func readPackage(t *testing.T) pkgDescriptor {
	t.Helper()
	raw, err := opendata.DataPackage()
	if err != nil {
		t.Fatal(err)
	}
	var pkg pkgDescriptor
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	return pkg
}

// csvFields returns the schema fields of the CSV resource.
func csvFields(t *testing.T, pkg pkgDescriptor) []pkgField {
	t.Helper()
	for _, r := range pkg.Resources {
		if r.Path == "export.csv" {
			if r.Schema == nil {
				t.Fatal("the CSV resource has no schema")
			}
			if !slices.Equal(r.Schema.PrimaryKey, []string{"uuid"}) {
				t.Errorf("primaryKey = %v", r.Schema.PrimaryKey)
			}
			if r.Format != "csv" || r.Mediatype != "text/csv" || r.Encoding != "utf-8" {
				t.Errorf("CSV resource: %s %s %s", r.Format, r.Mediatype, r.Encoding)
			}
			return r.Schema.Fields
		}
	}
	t.Fatal("no export.csv resource")
	return nil
}

// TestDataPackageDescribesCSV: every CSV column is described, in order, and nothing else.
func TestDataPackageDescribesCSV(t *testing.T) {
	pkg := readPackage(t)
	if pkg.Name == "" || pkg.Title == "" || len(pkg.Licenses) != 1 || pkg.Licenses[0].Name != opendata.ContentLicence {
		t.Errorf("package metadata: %+v", pkg)
	}
	fields := csvFields(t, pkg)
	var names []string
	types := map[string]bool{"string": true, "integer": true, "date": true, "boolean": true, "array": true, "object": true}
	for _, f := range fields {
		names = append(names, f.Name)
		if !types[f.Type] || f.Description == "" {
			t.Errorf("field %s: type %q, description %q", f.Name, f.Type, f.Description)
		}
	}
	if diff := cmp.Diff(opendata.Header(), names); diff != "" {
		t.Errorf("CSV header and data package differ (-header +package):\n%s", diff)
	}
	for _, want := range []string{"uuid", "slug", "revision", "publication_date", "last_change_date", "risk_category",
		"impact_level", "governance_approvals", "governance_conditions", "retired", "name_ca", "name_es", "name_en",
		"data_sources", "impact_assessments", "lawful_basis_links", "supplier", "keywords"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s column", want)
		}
	}
	paths := map[string]string{}
	for _, r := range pkg.Resources {
		paths[r.Path] = r.Mediatype
	}
	for path, mt := range map[string]string{"export.ndjson": "application/x-ndjson", "export.json": "application/json",
		"export/eurocities.json": "application/json"} {
		if paths[path] != mt {
			t.Errorf("resource %s: mediatype %q, want %q", path, paths[path], mt)
		}
	}
}

// checkCellsAgainstPackage checks every cell of an exported CSV against the type, format,
// enumeration and required flag the data package declares for its column.
func checkCellsAgainstPackage(t *testing.T, rows [][]string) {
	t.Helper()
	fields := csvFields(t, readPackage(t))
	for r, row := range rows[1:] {
		for i, cell := range row {
			f := fields[i]
			if msg := cellProblem(f, cell); msg != "" {
				t.Errorf("row %d column %s: %s (%.60q)", r+1, f.Name, msg, cell)
			}
		}
	}
}

func cellProblem(f pkgField, cell string) string {
	if cell == "" {
		if f.Constraints.Required {
			return "required but empty"
		}
		return ""
	}
	if len(f.Constraints.Enum) > 0 && !slices.Contains(f.Constraints.Enum, cell) {
		return "not one of the enumeration"
	}
	switch f.Type {
	case "integer":
		if _, err := strconv.Atoi(cell); err != nil {
			return "not an integer"
		}
	case "date":
		if _, err := time.Parse(time.DateOnly, cell); err != nil {
			return "not a date"
		}
	case "boolean":
		if cell != "true" && cell != "false" {
			return "not a boolean"
		}
	case "array", "object":
		var v any
		if err := json.Unmarshal([]byte(cell), &v); err != nil {
			return "not JSON"
		}
		if _, isList := v.([]any); isList != (f.Type == "array") {
			return "JSON of the wrong shape"
		}
	}
	switch f.Format {
	case "uri":
		if u, err := url.Parse(cell); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return "not an http(s) address"
		}
	case "email":
		if !strings.Contains(cell, "@") {
			return "not an e-mail address"
		}
	}
	return ""
}
