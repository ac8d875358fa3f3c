package diff

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/civictech/registry/internal/algorithms"
)

// upper stands for the translator: it shows which keys went through it.
func upper(key string) string { return "«" + key + "»" }

// sheet returns a realistic published fact sheet, written in Catalan with some Spanish.
func sheet() *algorithms.FactSheet {
	return &algorithms.FactSheet{
		Lang: "ca",
		Name: algorithms.Text{
			"ca": "Predicció del risc de caiguda de l'arbrat viari",
			"es": "Predicción del riesgo de caída del arbolado viario",
		},
		DescriptionShort: algorithms.Text{"ca": "Model que estima quins arbres del carrer tenen més risc de caure."},
		Organization:     algorithms.Text{"ca": "Ajuntament de Barcelona", "es": "Ayuntamiento de Barcelona"},
		OrganizationID:   "L01080193",
		Department:       algorithms.Text{"ca": "Institut Municipal de Parcs i Jardins"},
		ContactEmail:     "arbrat@bcn.example",
		Area:             algorithms.Text{"ca": "Barcelona"},
		Domain:           "environment, spacial planning and water",
		Status:           "pilot",
		StartDate:        "2023-09-15",
		Keywords:         []string{"arbrat", "seguretat", "inspecció"},
		Goal: algorithms.Text{
			"ca": "Ordenar les inspeccions de l'arbrat perquè els tècnics visitin primer els arbres amb més risc.\n\nAixí es redueixen les caigudes.",
			"es": "Ordenar las inspecciones del arbolado para que los técnicos visiten primero los árboles con más riesgo.",
		},
		DataSources: []algorithms.DataSource{{
			Name:        algorithms.Text{"ca": "Inventari d'arbrat", "es": "Inventario de arbolado"},
			Description: algorithms.Text{"ca": "Espècie, alçada i estat de cada arbre."},
			Owner:       "Parcs i Jardins",
			Licence:     "CC BY 4.0",
			OpenDataURL: "https://opendata.bcn.example/arbrat",
		}},
		AlgorithmType: "self-learning",
		Type:          "predictive",
		Supplier: algorithms.Supplier{
			Name: "Arbres i Dades SL", ID: "B12345678",
			Role: algorithms.Text{"ca": "Va entrenar el model."},
		},
		ImpactAssessments: []algorithms.ImpactAssessment{{
			Kind: "DPIA", Done: true, Date: "2023-06-01",
			Summary: algorithms.Text{"ca": "Sense dades personals."},
		}},
		LawfulBasisLinks: []algorithms.Link{{Title: "Llei 7/1985", URL: "https://www.boe.example/7-1985"}},
	}
}

// clone copies a sheet deeply.
func clone(t *testing.T, fs *algorithms.FactSheet) *algorithms.FactSheet {
	t.Helper()
	b, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	var out algorithms.FactSheet
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestFactSheets(t *testing.T) {
	old := sheet()
	new := clone(t, old)
	new.Goal["ca"] = "Ordenar les inspeccions de l'arbrat perquè els tècnics visitin abans els arbres amb més risc.\n\nAixí es redueixen les caigudes."
	new.DataSources = append(new.DataSources, algorithms.DataSource{
		Name:              algorithms.Text{"ca": "Avisos ciutadans", "es": "Avisos ciudadanos"},
		Description:       algorithms.Text{"ca": "Avisos d'arbres\nen mal estat."},
		PersonalData:      true,
		SpecialCategories: []string{"health"},
		Retention:         algorithms.Text{"ca": "2 anys"},
	})
	new.Status = "operational"

	got := FactSheets(old, new, "ca", upper)
	oldSource := "Inventari d'arbrat — Espècie, alçada i estat de cada arbre.; «Data owner»: Parcs i Jardins; «Licence»: CC BY 4.0; «Open data address»: https://opendata.bcn.example/arbrat"
	newSource := "Avisos ciutadans — Avisos d'arbres en mal estat. («Contains personal data»: health); «Retention period»: 2 anys"
	want := []FieldChange{
		{
			Field: "status", Label: "«Status»",
			Ops: []Op{{Delete, "pilot"}, {Insert, "operational"}},
			Old: "pilot", New: "operational",
		},
		{
			Field: "goal", Label: "«Goal»",
			Ops: []Op{
				{Equal, "Ordenar les inspeccions de l'arbrat perquè els tècnics visitin "},
				{Delete, "primer"}, {Insert, "abans"},
				{Equal, " els arbres amb més risc.\n\nAixí es redueixen les caigudes."},
			},
			Old: old.Goal["ca"], New: new.Goal["ca"],
		},
		{
			Field: "data_sources", Label: "«Data sources»",
			Ops: []Op{{Equal, oldSource}, {Insert, "\n" + newSource}},
			Old: oldSource, New: oldSource + "\n" + newSource,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FactSheets (-want +got):\n%s", diff)
	}
	for _, c := range got {
		if c.Field == "name" || c.Field == "keywords" {
			t.Errorf("unchanged field %s listed", c.Field)
		}
	}

	// In Spanish the goal's Spanish text did not change; the new data source is written in
	// Spanish where it has Spanish, else in Catalan.
	got = FactSheets(old, new, "es", upper)
	var fields []string
	for _, c := range got {
		fields = append(fields, c.Field)
	}
	if diff := cmp.Diff([]string{"status", "data_sources"}, fields); diff != "" {
		t.Errorf("fields changed in Spanish (-want +got):\n%s", diff)
	}
	wantNew := "Inventario de arbolado — Espècie, alçada i estat de cada arbre.; «Data owner»: Parcs i Jardins; «Licence»: CC BY 4.0; «Open data address»: https://opendata.bcn.example/arbrat\n" +
		"Avisos ciudadanos — Avisos d'arbres en mal estat. («Contains personal data»: health); «Retention period»: 2 anys"
	if diff := cmp.Diff(wantNew, got[1].New); diff != "" {
		t.Errorf("data sources in Spanish (-want +got):\n%s", diff)
	}
}

func TestFactSheetsSame(t *testing.T) {
	if got := FactSheets(sheet(), sheet(), "ca", upper); got != nil {
		t.Errorf("FactSheets of equal sheets = %v", got)
	}
	if got := FactSheets(nil, nil, "ca", upper); got != nil {
		t.Errorf("FactSheets(nil, nil) = %v", got)
	}
}

func TestFactSheetsNilOld(t *testing.T) {
	new := sheet()
	got := FactSheets(nil, new, "ca", nil)
	type field struct{ Field, Label, New string }
	var fields []field
	for _, c := range got {
		fields = append(fields, field{c.Field, c.Label, c.New})
		if diff := cmp.Diff([]Op{{Insert, c.New}}, c.Ops); diff != "" {
			t.Errorf("%s: ops (-want +got):\n%s", c.Field, diff)
		}
		if c.Old != "" {
			t.Errorf("%s: old = %q", c.Field, c.Old)
		}
	}
	want := []field{
		{"name", "Name", "Predicció del risc de caiguda de l'arbrat viari"},
		{"description_short", "Short description", "Model que estima quins arbres del carrer tenen més risc de caure."},
		{"organization", "Organisation", "Ajuntament de Barcelona"},
		{"organization_id", "Organisation code (DIR3)", "L01080193"},
		{"department", "Department", "Institut Municipal de Parcs i Jardins"},
		{"contact_email", "Contact e-mail", "arbrat@bcn.example"},
		{"area", "Area served", "Barcelona"},
		{"domain", "Policy domain", "environment, spacial planning and water"},
		{"status", "Status", "pilot"},
		{"start_date", "In use since", "2023-09-15"},
		{"keywords", "Keywords", "arbrat, seguretat, inspecció"},
		{"goal", "Goal", new.Goal["ca"]},
		{"lawful_basis_links", "Legal texts", "Llei 7/1985 — https://www.boe.example/7-1985"},
		{"data_sources", "Data sources", "Inventari d'arbrat — Espècie, alçada i estat de cada arbre.; Data owner: Parcs i Jardins; Licence: CC BY 4.0; Open data address: https://opendata.bcn.example/arbrat"},
		{"algorithm_type", "Kind of algorithm", "self-learning"},
		{"type", "Kind of output", "predictive"},
		{"supplier", "Supplier", "Arbres i Dades SL (Supplier tax ID: B12345678) — Va entrenar el model."},
		{"impact_assessments", "Impact assessments", "DPIA (Done, 2023-06-01) — Sense dades personals."},
		{"lang", "Original language", "ca"},
	}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("FactSheets(nil, sheet) (-want +got):\n%s", diff)
	}

	// And the other way round, everything deleted.
	for _, c := range FactSheets(new, nil, "ca", nil) {
		if diff := cmp.Diff([]Op{{Delete, c.Old}}, c.Ops); diff != "" || c.New != "" {
			t.Errorf("%s: ops (-want +got):\n%s", c.Field, diff)
		}
	}
}

func TestFactSheetsLanguage(t *testing.T) {
	tests := []struct {
		name     string
		lang     string
		old, new algorithms.Text
		oldLang  string
		want     []FieldChange // of the goal alone
	}{
		{
			name: "in the reader's language", lang: "es",
			old: algorithms.Text{"ca": "Primer", "es": "Primero"}, new: algorithms.Text{"ca": "Segon", "es": "Segundo"},
			want: []FieldChange{{Field: "goal", Label: "Goal", Ops: []Op{{Delete, "Primero"}, {Insert, "Segundo"}}, Old: "Primero", New: "Segundo"}},
		},
		{
			name: "no text in lang on either side: the original language", lang: "en",
			old: algorithms.Text{"ca": "Primer text"}, new: algorithms.Text{"ca": "Segon text"},
			want: []FieldChange{{Field: "goal", Label: "Goal", Ops: []Op{{Delete, "Primer"}, {Insert, "Segon"}, {Equal, " text"}}, Old: "Primer text", New: "Segon text"}},
		},
		{
			name: "no change in lang, a change in the original", lang: "es",
			old: algorithms.Text{"ca": "Primer", "es": "Igual"}, new: algorithms.Text{"ca": "Segon", "es": "Igual"},
		},
		{
			name: "translation added", lang: "en",
			old: algorithms.Text{"ca": "Text"}, new: algorithms.Text{"ca": "Text", "en": "Text in English"},
			want: []FieldChange{{Field: "goal", Label: "Goal", Ops: []Op{{Insert, "Text in English"}}, New: "Text in English"}},
		},
		{
			name: "original language changed", lang: "en", oldLang: "es",
			old: algorithms.Text{"es": "Texto"}, new: algorithms.Text{"ca": "Text"},
			want: []FieldChange{
				{Field: "goal", Label: "Goal", Ops: []Op{{Delete, "Texto"}, {Insert, "Text"}}, Old: "Texto", New: "Text"},
				{Field: "lang", Label: "Original language", Ops: []Op{{Delete, "es"}, {Insert, "ca"}}, Old: "es", New: "ca"},
			},
		},
		{
			name: "white space around", lang: "ca",
			old: algorithms.Text{"ca": "Text"}, new: algorithms.Text{"ca": " Text\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := &algorithms.FactSheet{Lang: "ca", Goal: tt.old}
			if tt.oldLang != "" {
				old.Lang = tt.oldLang
			}
			new := &algorithms.FactSheet{Lang: "ca", Goal: tt.new}
			if diff := cmp.Diff(tt.want, FactSheets(old, new, tt.lang, nil)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFactSheetsRows(t *testing.T) {
	old := &algorithms.FactSheet{Lang: "ca"}
	new := &algorithms.FactSheet{
		Lang:     "ca",
		Keywords: []string{"padró", "col·lectius vulnerables"},
		DataSources: []algorithms.DataSource{
			{Name: algorithms.Text{"ca": "Padró"}, PersonalData: true},
			{}, // a blank row shows nothing
			{Description: algorithms.Text{"ca": "Sense nom"}, SpecialCategories: []string{"health", "biometric data"}},
		},
		ImpactAssessments: []algorithms.ImpactAssessment{
			{Kind: "FRIA", ReasonNotDone: algorithms.Text{"ca": "No és d'alt risc."}},
			{Kind: "AIA", Done: true, URL: "https://example.org/aia"},
		},
		LawfulBasisLinks: []algorithms.Link{{URL: "https://example.org/llei"}, {Title: "Reglament  (UE)\n2016/679"}},
		Supplier:         algorithms.Supplier{Procurement: algorithms.Text{"ca": "Concurs obert"}, ContractURL: "https://example.org/contracte"},
	}
	got := map[string]string{}
	for _, c := range FactSheets(old, new, "ca", nil) {
		got[c.Field] = c.New
	}
	want := map[string]string{
		"keywords":           "padró, col·lectius vulnerables",
		"data_sources":       "Padró (Contains personal data)\nSense nom (Special categories of personal data: health, biometric data)",
		"impact_assessments": "FRIA; Why it was not done: No és d'alt risc.\nAIA (Done); Address: https://example.org/aia",
		"lawful_basis_links": "https://example.org/llei\nReglament (UE) 2016/679",
		"supplier":           "Procurement: Concurs obert; Contract: https://example.org/contracte",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// TestFactSheetsEveryField changes every field and checks that each one is listed, in the
// order of algorithms.Fields: no field of the struct is left out of the comparison.
func TestFactSheetsEveryField(t *testing.T) {
	var want []string
	for _, f := range algorithms.Fields {
		want = append(want, f.Name)
	}
	old := &algorithms.FactSheet{Lang: "ca"}
	// Fill every field of new through JSON, with a value of the right shape.
	filled := map[string]any{}
	for _, f := range algorithms.Fields {
		switch f.Kind {
		case algorithms.KindText, algorithms.KindMarkdown:
			filled[f.Name] = map[string]string{"ca": "x"}
		case algorithms.KindList:
			filled[f.Name] = []string{"x"}
		case algorithms.KindRows:
			filled[f.Name] = []map[string]any{{"name": map[string]string{"ca": "x"}, "title": "x", "kind": "DPIA"}}
		case algorithms.KindStruct:
			filled[f.Name] = map[string]any{"name": "x"}
		case algorithms.KindLang:
			filled[f.Name] = "es"
		default:
			filled[f.Name] = "x"
		}
	}
	b, err := json.Marshal(filled)
	if err != nil {
		t.Fatal(err)
	}
	var new algorithms.FactSheet
	if err := json.Unmarshal(b, &new); err != nil {
		t.Fatal(err)
	}
	new.Lang = "es" // and the texts in Catalan are compared in Catalan (lang "ca")
	var got []string
	for _, c := range FactSheets(old, &new, "ca", nil) {
		got = append(got, c.Field)
		if c.New == "" || c.Label == "" || c.Label == c.Field {
			t.Errorf("%s: new %q, label %q", c.Field, c.New, c.Label)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}
