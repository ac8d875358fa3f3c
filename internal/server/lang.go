package server

import (
	"net/http"

	"github.com/civictech/registry/internal/i18n"
)

// alternates returns the address of a public page in each language, for hreflang links and
// the language switcher; rest is the path after the language prefix.
func alternates(r *http.Request, rest string) map[i18n.Lang]string {
	out := map[i18n.Lang]string{}
	for _, l := range i18n.Langs {
		out[l] = "/" + string(l) + rest
	}
	return out
}
