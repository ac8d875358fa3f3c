package opendata_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/opendata"
)

// TestExports checks every format against the demo register: each published entry once
// (or each published revision once with versions=all), nothing that is not public, and
// output that parses back.
func TestExports(t *testing.T) {
	reg := newRegister(t)
	for _, all := range []bool{false, true} {
		name := map[bool]string{false: "latest", true: "all versions"}[all]
		t.Run(name, func(t *testing.T) {
			records := checkJSON(t, reg, all)
			checkNDJSON(t, reg, all, records)
			checkCSV(t, reg, all, records)
			for _, f := range opendata.Formats {
				out := reg.export(t, f, all)
				if bytes.Contains(out, []byte(marker)) {
					t.Errorf("%s export contains text that is not published (%q)", f, marker)
				}
				if bytes.Contains(out, []byte(reg.unpublishedID)) {
					t.Errorf("%s export contains the unpublished entry %s", f, reg.unpublishedID)
				}
			}
		})
	}
	t.Run("eurocities", func(t *testing.T) { checkEurocities(t, reg) })
}

// key identifies a record in any format.
type key struct {
	uuid     string
	revision int
}

func checkJSON(t *testing.T, reg *register, all bool) map[key]algorithms.Record {
	t.Helper()
	var list []algorithms.Record
	if err := json.Unmarshal(reg.export(t, opendata.JSON, all), &list); err != nil {
		t.Fatalf("json export does not parse: %v", err)
	}
	if len(list) != reg.entries(all) {
		t.Errorf("json export has %d records, want %d", len(list), reg.entries(all))
	}
	records := map[key]algorithms.Record{}
	perSlug := map[string]int{}
	for _, r := range list {
		k := key{r.UUID, r.Revision}
		if _, dup := records[k]; dup {
			t.Errorf("%s revision %d exported twice", r.Slug, r.Revision)
		}
		records[k] = r
		perSlug[r.Slug]++
		if r.PublicationDate == "" || r.LastChangeDate == "" || r.Revision < 1 {
			t.Errorf("%s: missing identifiers or dates: %+v", r.Slug, r)
		}
		if !all && !r.Latest {
			t.Errorf("%s revision %d is not the latest", r.Slug, r.Revision)
		}
	}
	for slug, revs := range reg.published {
		want := 1
		if all {
			want = revs
		}
		if perSlug[slug] != want {
			t.Errorf("%s: %d records, want %d", slug, perSlug[slug], want)
		}
	}
	return records
}

func checkNDJSON(t *testing.T, reg *register, all bool, records map[key]algorithms.Record) {
	t.Helper()
	out := reg.export(t, opendata.NDJSON, all)
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(lines) != reg.entries(all) {
		t.Fatalf("ndjson export has %d lines, want %d", len(lines), reg.entries(all))
	}
	for i, line := range lines {
		var r algorithms.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("ndjson line %d does not parse: %v", i+1, err)
		}
		if _, ok := records[key{r.UUID, r.Revision}]; !ok {
			t.Errorf("ndjson line %d (%s %d) is not in the json export", i+1, r.Slug, r.Revision)
		}
	}
}

func checkCSV(t *testing.T, reg *register, all bool, records map[key]algorithms.Record) {
	t.Helper()
	rd := csv.NewReader(bytes.NewReader(reg.export(t, opendata.CSV, all)))
	rd.FieldsPerRecord = len(opendata.Columns) // every row, the header included
	rows, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("csv export does not parse: %v", err)
	}
	if strings.Join(rows[0], ",") != strings.Join(opendata.Header(), ",") {
		t.Errorf("csv header = %v", rows[0])
	}
	if len(rows)-1 != reg.entries(all) {
		t.Fatalf("csv export has %d rows, want %d", len(rows)-1, reg.entries(all))
	}
	checkCellsAgainstPackage(t, rows)
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, row := range rows[1:] {
		n, err := strconv.Atoi(row[col["revision"]])
		if err != nil {
			t.Fatalf("revision %q: %v", row[col["revision"]], err)
		}
		k := key{row[col["uuid"]], n}
		r, ok := records[k]
		if !ok {
			t.Fatalf("csv row %v is not in the json export", k)
		}
		// The cells hold exactly what the native record holds.
		for _, l := range algorithms.Languages {
			if got := row[col["description_"+l]]; got != r.Description[l] {
				t.Errorf("%s description_%s = %.40q, want %.40q", r.Slug, l, got, r.Description[l])
			}
		}
		if row[col["lang"]] != r.Lang || row[col["domain"]] != r.Domain || row[col["risk_category"]] != r.RiskCategory {
			t.Errorf("%s: scalar cells differ from the record", r.Slug)
		}
		var sources []algorithms.DataSource
		if cell := row[col["data_sources"]]; cell != "" {
			if err := json.Unmarshal([]byte(cell), &sources); err != nil {
				t.Errorf("%s data_sources is not JSON: %v", r.Slug, err)
			}
		}
		if len(sources) != len(r.DataSources) {
			t.Errorf("%s: %d data sources in the csv, %d in the record", r.Slug, len(sources), len(r.DataSources))
		}
		if r.Supplier.IsZero() != (row[col["supplier"]] == "") {
			t.Errorf("%s supplier cell %q for supplier %+v", r.Slug, row[col["supplier"]], r.Supplier)
		}
	}
}

// TestExportEmptyRegister: an empty register gives valid, empty documents.
func TestExportEmptyRegister(t *testing.T) {
	want := map[opendata.Format]string{
		opendata.JSON:       "[\n]\n",
		opendata.NDJSON:     "",
		opendata.CSV:        strings.Join(opendata.Header(), ",") + "\n",
		opendata.Eurocities: "[\n]\n",
	}
	for _, f := range opendata.Formats {
		var buf bytes.Buffer
		if err := opendata.Export(context.Background(), records(), &buf, f, opendata.Options{}); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want[f] {
			t.Errorf("%s: %q, want %q", f, buf.String(), want[f])
		}
	}
}

// TestExportErrors: a failing query leaves the writer untouched, so the HTTP handler can
// still answer with an error status; a failure later is returned too.
func TestExportErrors(t *testing.T) {
	boom := errors.New("boom")
	var buf bytes.Buffer
	if err := opendata.Export(context.Background(), failing{err: boom}, &buf, opendata.CSV, opendata.Options{}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written before the first record", buf.Len())
	}
	err := opendata.Export(context.Background(), failing{err: boom, after: 3}, io.Discard, opendata.JSON, opendata.Options{})
	if !errors.Is(err, boom) {
		t.Errorf("mid-stream err = %v", err)
	}
	if _, ok := opendata.ParseFormat("xml"); ok {
		t.Error("xml accepted as a format")
	}
}

// TestExportFlushes: the flush hook runs as records go out, with the bytes so far already
// handed over, so an HTTP client receives the export while it is being produced.
func TestExportFlushes(t *testing.T) {
	src := make(sliceSource, 10)
	for i := range src {
		src[i] = sampleRecord()
		src[i].Slug = "entry-" + string(rune('a'+i))
	}
	var buf bytes.Buffer
	var seen []int
	err := opendata.Export(context.Background(), src, &buf, opendata.NDJSON, opendata.Options{FlushEvery: 4,
		Flush: func() error { seen = append(seen, bytes.Count(buf.Bytes(), []byte("\n"))); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{4, 8}; !slices.Equal(seen, want) {
		t.Errorf("flushed after %v lines, want %v", seen, want)
	}
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		n++
	}
	if n != 10 {
		t.Errorf("%d lines, want 10", n)
	}
}
