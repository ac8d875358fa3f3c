package web

import (
	"context"
	"net/http"
	"slices"

	"github.com/civictech/registry/internal/i18n"
)

// Viewer is the signed-in staff member a request acts for. The auth package sets it; pages
// and handlers read it.
type Viewer struct {
	ID         string
	Email      string
	Name       string
	Roles      []string
	MFAEnabled bool
}

// Has reports whether the viewer holds any of roles.
func (v *Viewer) Has(roles ...string) bool {
	if v == nil {
		return false
	}
	for _, r := range roles {
		if slices.Contains(v.Roles, r) {
			return true
		}
	}
	return false
}

type ctxKey int

const (
	viewerKey ctxKey = iota
	langKey
)

// WithViewer returns ctx carrying v.
func WithViewer(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey, v)
}

// ViewerFrom returns the viewer of ctx, or nil for an anonymous request.
func ViewerFrom(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey).(*Viewer)
	return v
}

// WithLang returns ctx carrying the page language.
func WithLang(ctx context.Context, l i18n.Lang) context.Context {
	return context.WithValue(ctx, langKey, l)
}

// UseLang returns r in language l: the request itself, its language recorded, when it
// passed through RequestLog, or a copy carrying l.
func UseLang(r *http.Request, l i18n.Lang) *http.Request {
	if x := exchangeFrom(r.Context()); x != nil {
		x.lang = l
		return r
	}
	return r.WithContext(WithLang(r.Context(), l))
}

// LangFrom returns the language of ctx: the one WithLang gave, else the one UseLang
// recorded for the request, else Catalan.
func LangFrom(ctx context.Context) i18n.Lang {
	if l, ok := ctx.Value(langKey).(i18n.Lang); ok {
		return l
	}
	if x := exchangeFrom(ctx); x != nil && x.lang != "" {
		return x.lang
	}
	return i18n.Catalan
}

// RequestIDFrom returns the ID the request was logged under (RequestLog).
func RequestIDFrom(ctx context.Context) string {
	if x := exchangeFrom(ctx); x != nil {
		return x.id
	}
	return ""
}
