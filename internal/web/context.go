package web

import (
	"context"
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
	requestIDKey
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

// LangFrom returns the language of ctx, Catalan when none was chosen.
func LangFrom(ctx context.Context) i18n.Lang {
	if l, ok := ctx.Value(langKey).(i18n.Lang); ok {
		return l
	}
	return i18n.Catalan
}

// RequestIDFrom returns the ID the request was logged under.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
