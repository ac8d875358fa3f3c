package algorithms

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// maxSlugLength keeps addresses readable.
const maxSlugLength = 60

// Slugify turns a name into an address segment: lower case, accents dropped ("Detecció de
// pobresa" → "deteccio-de-pobresa"), the Catalan middle dot joined ("col·lectiu" →
// "collectiu"), anything else a hyphen.
func Slugify(name string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	plain, _, err := transform.String(t, name)
	if err != nil {
		plain = name
	}
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(plain) {
		switch {
		case r == '·' || r == '\'' || r == '’':
			continue
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		default:
			hyphen = true
		}
		if b.Len() > maxSlugLength {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > maxSlugLength {
		s = s[:maxSlugLength]
		// Cut at a word boundary when one is not too far back.
		if i := strings.LastIndexByte(s, '-'); i > maxSlugLength/2 {
			s = s[:i]
		}
		s = strings.TrimRight(s, "-")
	}
	if s == "" {
		s = "algorithm"
	}
	return s
}
