package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/civictech/registry/internal/i18n"
	assets "github.com/civictech/registry/web"
)

// Page is what every template receives. Handlers fill Title and Data; Render fills the rest.
type Page struct {
	Title     string
	Data      any
	Lang      i18n.Lang
	Viewer    *Viewer
	Flash     string
	Path      string
	RequestID string
	// Alternates are the same page in the other languages (public pages only).
	Alternates map[i18n.Lang]string
}

// Renderer renders pages and errors. Its templates are parsed once, at start-up, per
// language, so a template with a syntax error or an unknown page stops the server early.
type Renderer struct {
	cat    *i18n.Catalogue
	log    *slog.Logger
	pages  map[i18n.Lang]map[string]*template.Template
	cookie *securecookie.SecureCookie
	secure bool
}

// NewRenderer parses every page under web/templates/pages with the layout and partials.
// hashKey signs the flash cookie; secure marks cookies Secure (behind HTTPS).
func NewRenderer(cat *i18n.Catalogue, log *slog.Logger, hashKey []byte, secure bool) (*Renderer, error) {
	rd := &Renderer{
		cat:    cat,
		log:    log,
		pages:  map[i18n.Lang]map[string]*template.Template{},
		cookie: securecookie.New(hashKey, nil).MaxAge(300),
		secure: secure,
	}
	var names []string
	err := fs.WalkDir(assets.FS, "templates/pages", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".html") {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(p, "templates/pages/"), ".html"))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("web: list templates: %w", err)
	}
	for _, l := range i18n.Langs {
		rd.pages[l] = map[string]*template.Template{}
		for _, name := range names {
			t, err := template.New("layout.html").Funcs(rd.funcs(l)).ParseFS(assets.FS,
				"templates/layout.html", "templates/partials/*.html", "templates/pages/"+name+".html")
			if err != nil {
				return nil, fmt.Errorf("web: parse %s: %w", name, err)
			}
			rd.pages[l][name] = t
		}
	}
	return rd, nil
}

// T translates key into the request's language.
func (rd *Renderer) T(r *http.Request, key string, args ...any) string {
	return rd.cat.T(LangFrom(r.Context()), key, args...)
}

// Catalogue returns the message catalogue.
func (rd *Renderer) Catalogue() *i18n.Catalogue { return rd.cat }

// Render writes page name with status. It renders into a buffer first, so a template error
// becomes a clean 500 rather than half a page.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, name string, p Page) error {
	p.Lang = LangFrom(r.Context())
	p.Viewer = ViewerFrom(r.Context())
	p.RequestID = RequestIDFrom(r.Context())
	p.Path = r.URL.RequestURI()
	p.Flash = rd.takeFlash(w, r)
	t, ok := rd.pages[p.Lang][name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// Redirect answers 303 See Other to target, with an optional flash message key shown on
// the next page.
func (rd *Renderer) Redirect(w http.ResponseWriter, r *http.Request, target, flash string) error {
	if flash != "" {
		if v, err := rd.cookie.Encode("flash", flash); err == nil {
			http.SetCookie(w, &http.Cookie{Name: "flash", Value: v, Path: "/", HttpOnly: true,
				Secure: rd.secure, SameSite: http.SameSiteLaxMode, MaxAge: 300})
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (rd *Renderer) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie("flash")
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: "flash", Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: rd.secure})
	var key string
	if err := rd.cookie.Decode("flash", c.Value, &key); err != nil {
		return ""
	}
	return rd.cat.T(LangFrom(r.Context()), key)
}

func (rd *Renderer) funcs(l i18n.Lang) template.FuncMap {
	return template.FuncMap{
		"t":     func(key string, args ...any) string { return rd.cat.T(l, key, args...) },
		"langs": func() []i18n.Lang { return i18n.Langs },
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Format("2006-01-02")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"query": url.QueryEscape,
		"join":  strings.Join,
		"base":  path.Base,
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"add":      func(a, b int) int { return a + b },
		"list":     func(items ...any) []any { return items },
		"duration": humanDuration,
		// The name of a language in the page's language, for running text ("shown in
		// Spanish"); the language switcher names each in its own.
		"langname": func(code string) string { return rd.cat.T(l, "language:"+code) },
		"hasKey": func(m map[string]bool, k string) bool {
			_, ok := m[k]
			return ok
		},
		"nextSection": func(sections []string, cur string) string {
			for i, s := range sections {
				if s == cur && i+1 < len(sections) {
					return sections[i+1]
				}
			}
			return ""
		},
		"contains": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
	}
}

// humanDuration says how long something took, in days and hours or hours and minutes.
func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d d", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	default:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
}

// PageBytes renders a page for no one in particular (no viewer, no flash), to be cached and
// served to everyone: public pages of published revisions.
func (rd *Renderer) PageBytes(lang i18n.Lang, name string, p Page) ([]byte, error) {
	p.Lang = lang
	t, ok := rd.pages[lang][name]
	if !ok {
		return nil, fmt.Errorf("web: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}
