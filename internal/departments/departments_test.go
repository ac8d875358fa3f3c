package departments

import (
	"context"
	"testing"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestLookup: while the list is empty any name will do; then only an active department's
// name in the language asked, whatever its case and spacing.
func TestLookup(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	s := NewStore(pool)
	ctx := context.Background()
	by := Actor{Email: "admin@example.org"}
	listed := func(lang i18n.Lang, name string) bool {
		t.Helper()
		names, ok, err := s.Lookup(ctx, string(lang), name)
		if err != nil {
			t.Fatal(err)
		}
		if ok && names != nil && names["en"] != "Parks and Gardens" {
			t.Errorf("Lookup(%s, %q): names %v", lang, name, names)
		}
		return ok
	}
	if !listed(i18n.Catalan, "Qualsevol") {
		t.Error("with no departments, a name was refused")
	}
	parks, err := s.Add(ctx, map[string]string{"ca": "Parcs i Jardins", "es": "Parques y Jardines", "en": "Parks and Gardens"}, by)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang i18n.Lang
		name string
		want bool
	}{
		{i18n.Catalan, "Parcs i Jardins", true},
		{i18n.Catalan, "  parcs   i JARDINS ", true},
		{i18n.Spanish, "Parques y Jardines", true},
		{i18n.English, "Parcs i Jardins", false}, // the Catalan name, asked in English
		{i18n.Catalan, "Qualsevol", false},
	} {
		if got := listed(tc.lang, tc.name); got != tc.want {
			t.Errorf("Lookup(%s, %q): acceptable %v, want %v", tc.lang, tc.name, got, tc.want)
		}
	}
	if err := s.Update(ctx, parks.ID, parks.Names, false, by); err != nil {
		t.Fatal(err)
	}
	if !listed(i18n.Catalan, "Qualsevol") || !listed(i18n.Catalan, "Parcs i Jardins") {
		t.Error("with every department withdrawn, names must be free again")
	}
	if err := s.Update(ctx, "00000000-0000-0000-0000-000000000000", parks.Names, true, by); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("updating a department that does not exist: %v, want NotFound", err)
	}
	if _, err := s.Add(ctx, map[string]string{"ca": "x", "es": "", "en": "y"}, by); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("a department without its Spanish name: %v, want Invalid", err)
	}
}
