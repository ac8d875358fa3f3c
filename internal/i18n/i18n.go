// Package i18n holds the message catalogue in Catalan, Spanish and English and picks the
// language of a request. Keys are the English text (with fmt verbs where a value goes in);
// messages/ca.json and messages/es.json translate them.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Lang is one of the register's languages, as its ISO 639-1 code.
type Lang string

// The languages, Catalan first: it is the fallback when nothing else matches.
const (
	Catalan Lang = "ca"
	Spanish Lang = "es"
	English Lang = "en"
)

// Langs lists the supported languages in display order.
var Langs = []Lang{Catalan, Spanish, English}

var tags = []language.Tag{language.Catalan, language.Spanish, language.English}

var matcher = language.NewMatcher(tags)

// Parse returns the Lang for an ISO code such as "es".
func Parse(code string) (Lang, bool) {
	for _, l := range Langs {
		if string(l) == code {
			return l, true
		}
	}
	return "", false
}

// Negotiate picks a language: the explicit choice (a cookie) when valid, else the best match
// for the Accept-Language header, else Catalan.
func Negotiate(choice, acceptLanguage string) Lang {
	if l, ok := Parse(choice); ok {
		return l
	}
	if acceptLanguage == "" {
		return Catalan
	}
	wanted, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(wanted) == 0 {
		return Catalan
	}
	_, index, confidence := matcher.Match(wanted...)
	if confidence == language.No {
		return Catalan
	}
	return Langs[index]
}

// Name returns the language's own name, for a language switcher.
func (l Lang) Name() string {
	switch l {
	case Catalan:
		return "Català"
	case Spanish:
		return "Español"
	default:
		return "English"
	}
}

//go:embed messages/*.json
var messagesFS embed.FS

// Catalogue translates message keys.
type Catalogue struct {
	printers map[Lang]*message.Printer
	keys     map[Lang]map[string]bool
}

// Load builds the catalogue from the embedded translation files.
func Load() (*Catalogue, error) {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	c := &Catalogue{printers: map[Lang]*message.Printer{}, keys: map[Lang]map[string]bool{}}
	for i, l := range Langs {
		c.keys[l] = map[string]bool{}
		raw, err := messagesFS.ReadFile("messages/" + string(l) + ".json")
		if l == English && err != nil {
			continue // English keys are English text; en.json only names code-like keys
		}
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		var msgs map[string]string
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, fmt.Errorf("i18n: messages/%s.json: %w", l, err)
		}
		for k, v := range msgs {
			if err := b.SetString(tags[i], k, v); err != nil {
				return nil, fmt.Errorf("i18n: %s %q: %w", l, k, err)
			}
			c.keys[l][k] = true
		}
	}
	for i, l := range Langs {
		c.printers[l] = message.NewPrinter(tags[i], message.Catalog(b))
	}
	return c, nil
}

// T translates key into lang, formatting args into its verbs. A key with no translation is
// shown in English, never as an error.
func (c *Catalogue) T(lang Lang, key string, args ...any) string {
	p, ok := c.printers[lang]
	if !ok {
		p = c.printers[Catalan]
	}
	return p.Sprintf(key, args...)
}

// Missing lists the keys among want that lang does not translate; tests use it to keep
// the catalogue complete.
func (c *Catalogue) Missing(lang Lang, want []string) []string {
	if lang == English {
		return nil
	}
	var missing []string
	for _, k := range want {
		if !c.keys[lang][k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	return missing
}

// Keys returns every key translated into lang.
func (c *Catalogue) Keys(lang Lang) []string {
	var out []string
	for k := range c.keys[lang] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Tag returns the BCP 47 tag of lang, for the html lang attribute.
func (l Lang) Tag() string { return strings.ToLower(string(l)) }
