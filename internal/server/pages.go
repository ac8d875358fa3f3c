package server

import (
	"net/http"

	"github.com/civictech/registry/internal/web"
)

// home is the public front page. The public register itself arrives with the publish package.
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	return s.rd.Render(w, r, http.StatusOK, "home", web.Page{Title: s.rd.T(r, "Algorithm Registry"),
		Alternates: alternates(r, "/")})
}
