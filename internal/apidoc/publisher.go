package apidoc

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
)

// Publisher is the institution that runs the register, as the open data catalogue names
// it: a council adopting the register sets its own (REGISTRY_PUBLISHER_* and
// REGISTRY_CONTACT_*, see the README) rather than editing the code.
type Publisher struct {
	// Name and URI name the institution; URI as the portal that harvests the catalogue
	// names publishers (for Spain, datos.gob.es and the DIR3 directory).
	Name, URI string
	// ContactName and ContactEmail are the office that answers for the register.
	ContactName, ContactEmail string
	// Place is the area the register covers, PlaceURI its identifier (GeoNames, or the EU
	// place list).
	Place, PlaceURI string
}

// PlaceholderEmail is the contact address of DefaultPublisher, on a reserved domain: a
// guessed address at a council's domain could reach the wrong people. serve warns while
// the catalogue names it.
const PlaceholderEmail = "dades@example.org"

// DefaultPublisher is the register's first user, Barcelona's municipal data office, with a
// placeholder contact address until the office names its mailbox.
var DefaultPublisher = Publisher{
	Name: "Ajuntament de Barcelona",
	// DIR3 code L01080193, as datos.gob.es names publishers.
	URI:          "http://datos.gob.es/recurso/sector-publico/org/Organismo/L01080193",
	ContactName:  "Oficina Municipal de Dades",
	ContactEmail: PlaceholderEmail,
	Place:        "Barcelona",
	PlaceURI:     "http://sws.geonames.org/3128760/",
}

// Validate reports what is missing or malformed.
func (p Publisher) Validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{{"name", p.Name}, {"contact name", p.ContactName}, {"place", p.Place}} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("the publisher's %s is empty", f.name))
		}
	}
	for _, f := range []struct{ name, value string }{{"URI", p.URI}, {"place URI", p.PlaceURI}} {
		if u, err := url.Parse(f.value); err != nil || !u.IsAbs() || u.Host == "" {
			errs = append(errs, fmt.Errorf("the publisher's %s %q is not an absolute address", f.name, f.value))
		}
	}
	if a, err := mail.ParseAddress(p.ContactEmail); err != nil || a.Address != p.ContactEmail {
		errs = append(errs, fmt.Errorf("the contact e-mail %q is not an address", p.ContactEmail))
	}
	return errors.Join(errs...)
}
