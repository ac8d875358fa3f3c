package algorithms

import "testing"

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Detecció de pobresa energètica":           "deteccio-de-pobresa-energetica",
		"Assistent virtual 010":                    "assistent-virtual-010",
		"Classificació d'incidències col·lectives": "classificacio-dincidencies-collectives",
		"  ¿Qué?  ":   "que",
		"Ñandú & Co.": "nandu-co",
		"!!!":         "algorithm",
		"a very long name that goes on and on and on beyond sixty characters for sure": "a-very-long-name-that-goes-on-and-on-and-on-beyond-sixty",
	} {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}
