package opendata

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/civictech/registry/internal/algorithms"
)

// Column is one column of the CSV export and, through the data package, its documentation.
// The header row and the data package's schema are both made from Columns, so they cannot
// drift apart.
type Column struct {
	Name        string
	Title       string
	Type        string // Frictionless Table Schema type: string, integer, date, boolean, array, object
	Format      string // for strings: uri, email, uuid; empty means default
	Description string
	Required    bool     // always filled in a published record
	Enum        []string // the only values allowed (an empty cell is a missing value)
	value       func(*algorithms.Record) (string, error)
}

// Columns are the CSV columns in order: the identifiers, every fact-sheet field in the order
// of algorithms.Fields (a text field gets one column per language, e.g. name_ca, name_es,
// name_en), then what the system and the review add.
var Columns = buildColumns()

// languageNames name the languages of the text columns in the data package.
var languageNames = map[string]string{"ca": "Catalan", "es": "Spanish", "en": "English"}

// jsonShapes say what the JSON text of a structured field holds.
var jsonShapes = map[string]string{
	"keywords":           `a list of strings`,
	"lawful_basis_links": `a list of {"title", "url"}`,
	"data_sources": `a list of {"name" (language map), "description" (language map), "personal_data" (boolean), ` +
		`"special_categories" (list of GDPR Article 9 categories), "owner", "licence", "open_data_url", "retention" (language map)}`,
	"impact_assessments": `a list of {"kind" (DPIA, FRIA, AIA or other), "done" (boolean), "date" (YYYY-MM-DD), ` +
		`"summary" (language map), "url", "reason_not_done" (language map)}`,
	"supplier": `{"name", "id", "role" (language map), "procurement" (language map), "contract_url"}`,
}

func buildColumns() []Column {
	cols := []Column{
		{Name: "uuid", Title: "Identifier", Type: "string", Format: "uuid", Required: true,
			Description: "Stable identifier of the entry; it never changes, whatever the revision.",
			value:       func(r *algorithms.Record) (string, error) { return r.UUID, nil }},
		{Name: "slug", Title: "Slug", Type: "string", Required: true,
			Description: "Permanent short name of the entry in the register's addresses.",
			value:       func(r *algorithms.Record) (string, error) { return r.Slug, nil }},
		{Name: "revision", Title: "Revision", Type: "integer", Required: true,
			Description: "Number of this revision of the entry (1, 2, 3…).",
			value:       func(r *algorithms.Record) (string, error) { return strconv.Itoa(r.Revision), nil }},
	}
	sheet := reflect.TypeFor[algorithms.FactSheet]()
	for _, f := range algorithms.Fields {
		cols = append(cols, fieldColumns(f, fieldIndex(sheet, f.Name))...)
	}
	return append(cols, systemColumns()...)
}

// fieldIndex returns the index in FactSheet of the field whose JSON name is name.
func fieldIndex(t reflect.Type, name string) int {
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag == name {
			return i
		}
	}
	panic("opendata: FactSheet has no field " + name)
}

func field(r *algorithms.Record, i int) reflect.Value {
	return reflect.ValueOf(&r.FactSheet).Elem().Field(i)
}

func fieldColumns(f algorithms.FieldSpec, i int) []Column {
	label := algorithms.FieldLabels[f.Name]
	if label == "" {
		label = f.Name
	}
	base := Column{Name: f.Name, Title: label, Type: "string", Description: label + "."}
	switch f.Kind {
	case algorithms.KindText, algorithms.KindMarkdown:
		var cols []Column
		for _, l := range algorithms.Languages {
			c := base
			c.Name, c.Title = f.Name+"_"+l, label+" ("+languageNames[l]+")"
			c.Description = label + ", in " + languageNames[l] + "; empty when not written in that language."
			if f.Kind == algorithms.KindMarkdown {
				c.Description += " Markdown (CommonMark with GFM tables)."
			}
			c.value = func(r *algorithms.Record) (string, error) { return field(r, i).Interface().(algorithms.Text)[l], nil }
			cols = append(cols, c)
		}
		return cols
	case algorithms.KindList, algorithms.KindRows, algorithms.KindStruct:
		base.Type = "array"
		if f.Kind == algorithms.KindStruct {
			base.Type = "object"
		}
		shape := jsonShapes[f.Name]
		if shape == "" {
			shape = "structured data"
		}
		base.Description = label + ", as JSON text: " + shape + ". Empty when there is none."
		base.value = func(r *algorithms.Record) (string, error) { return jsonCell(field(r, i)) }
		return []Column{base}
	case algorithms.KindDate:
		base.Type = "date"
		base.Description = label + " (YYYY-MM-DD)."
	case algorithms.KindURL:
		base.Format = "uri"
	case algorithms.KindEmail:
		base.Format = "email"
	case algorithms.KindEnum:
		base.Enum = f.Options
	case algorithms.KindLang:
		base.Enum, base.Required = f.Options, true
		base.Description = "Original language of the entry (ISO 639-1); the text in this language is the authoritative one."
	}
	base.value = func(r *algorithms.Record) (string, error) { return field(r, i).String(), nil }
	return []Column{base}
}

func systemColumns() []Column {
	return []Column{
		{Name: "publication_date", Title: "Publication date", Type: "date", Required: true,
			Description: "Date of the entry's first publication (YYYY-MM-DD).",
			value:       func(r *algorithms.Record) (string, error) { return r.PublicationDate, nil }},
		{Name: "last_change_date", Title: "Last change date", Type: "date", Required: true,
			Description: "Date this revision was published (YYYY-MM-DD).",
			value:       func(r *algorithms.Record) (string, error) { return r.LastChangeDate, nil }},
		{Name: "risk_category", Title: "Risk category", Type: "string", Enum: algorithms.RiskCategories,
			Description: "EU AI Act tier computed from the risk assessment.",
			value:       func(r *algorithms.Record) (string, error) { return r.RiskCategory, nil }},
		{Name: "impact_level", Title: "Impact level", Type: "string", Enum: []string{"I", "II", "III", "IV"},
			Description: "Impact level computed from the impact questionnaire, I (lowest) to IV.",
			value:       func(r *algorithms.Record) (string, error) { return r.ImpactLevel, nil }},
		{Name: "governance_approvals", Title: "Approvals", Type: "integer", Required: true,
			Description: "Number of ethics committee approvals that published this revision.",
			value:       func(r *algorithms.Record) (string, error) { return strconv.Itoa(r.Governance.Approvals), nil }},
		{Name: "governance_conditions", Title: "Conditions", Type: "array",
			Description: "Public conditions the ethics committee attached to the approval, as JSON text: a list of strings. Empty when there are none.",
			value:       func(r *algorithms.Record) (string, error) { return jsonCell(reflect.ValueOf(r.Governance.Conditions)) }},
		{Name: "retired", Title: "Retired", Type: "boolean", Required: true,
			Description: "true when the entry is no longer in use (its latest revision retires it).",
			value:       func(r *algorithms.Record) (string, error) { return strconv.FormatBool(r.Retired), nil }},
		{Name: "latest", Title: "Latest", Type: "boolean", Required: true,
			Description: "true when this is the entry's newest published revision (always true unless versions=all).",
			value:       func(r *algorithms.Record) (string, error) { return strconv.FormatBool(r.Latest), nil }},
	}
}

// jsonCell encodes a structured value as JSON text, or "" when it is empty, so that an
// empty cell means "none" in every structured column. HTML characters are kept as they
// are: the text is for people reading a spreadsheet, not for a browser.
func jsonCell(v reflect.Value) (string, error) {
	if v.IsZero() || (v.Kind() == reflect.Slice && v.Len() == 0) {
		return "", nil
	}
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok && z.IsZero() {
		return "", nil // a supplier with only empty language maps
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v.Interface()); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// Header returns the CSV header row.
func Header() []string {
	out := make([]string, len(Columns))
	for i, c := range Columns {
		out[i] = c.Name
	}
	return out
}

// csvEncoder writes RFC 4180 CSV with a header row and "\n" line ends (the data package
// says so). Cells are written as they are: no spreadsheet-formula escaping, because a
// leading "-" or "=" is real content here (Markdown lists, for one) and the data is for
// programs as much as for people.
type csvEncoder struct {
	w   *csv.Writer
	row []string
}

func (c *csvEncoder) begin(w *bufio.Writer) error {
	c.w = csv.NewWriter(w) // reuses w: it is already a large enough bufio.Writer
	c.row = make([]string, len(Columns))
	return c.w.Write(Header())
}

func (c *csvEncoder) record(_ *bufio.Writer, rec *algorithms.Record) error {
	for i, col := range Columns {
		v, err := col.value(rec)
		if err != nil {
			return fmt.Errorf("opendata: %s column %s: %w", rec.Slug, col.Name, err)
		}
		c.row[i] = v
	}
	return c.w.Write(c.row)
}

func (c *csvEncoder) end(*bufio.Writer) error {
	c.w.Flush()
	return c.w.Error()
}
