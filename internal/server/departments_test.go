package server

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/auth"
)

// TestDepartments: the data office adds, renames and withdraws departments in the three
// languages; bad input comes back at the field with the rest kept; authors are offered the
// active ones in the language they write in; nobody else may change them.
func TestDepartments(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	app.user("admin@example.org", auth.RoleAdmin)
	admin := app.client()
	expectRedirect(t, admin.login("admin@example.org", testPassword), "/admin")

	add := func(ca, es, en string) *response {
		return admin.post("/admin/departments", url.Values{"name_ca": {ca}, "name_es": {es}, "name_en": {en}})
	}
	expectStatus(t, add("Parcs i Jardins", "Parques y Jardines", "Parks and Gardens"), http.StatusCreated)
	expectStatus(t, add("Guàrdia  Urbana ", "Guardia Urbana", "City Police <b>"), http.StatusCreated)

	// A missing name: 422, the message at the field, the others kept.
	res := add("Institut Municipal d'Informàtica", "", "Municipal IT Institute")
	expectStatus(t, res, http.StatusUnprocessableEntity)
	mustContain(t, "a missing Spanish name", res.body, `id="f-name_es-error"`, `value="Institut Municipal d&#39;Informàtica"`,
		`value="Municipal IT Institute"`)
	// The same Catalan name again, in another case: refused at the field.
	res = add("PARCS I JARDINS", "Otros", "Others")
	expectStatus(t, res, http.StatusUnprocessableEntity)
	mustContain(t, "a taken name", res.body, `id="f-name_ca-error"`)

	list := admin.get("/admin/departments")
	expectStatus(t, list, http.StatusOK)
	mustContain(t, "the list", list.body, "Parcs i Jardins", "Parques y Jardines", "Guàrdia Urbana", "City Police &lt;b&gt;")
	mustNotContain(t, "the list", list.body, "City Police <b>", "Otros")
	var events int
	if err := app.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'department_added'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 2 {
		t.Errorf("%d department_added audit events, want 2", events)
	}

	// Authors are offered the active departments, in the language they write in.
	author := wsAuthor(t, app, "author@example.org")
	mustContain(t, "the new-entry form (English)", author.get("/workspace/new").body,
		`list="f-department-list"`, `<option value="Parks and Gardens">`)
	id := wsCreate(t, author, "Risc de caiguda d'arbres")
	mustContain(t, "the basic section in Catalan", author.get("/workspace/"+id+"/edit/basic?tl=ca").body,
		`<option value="Parcs i Jardins">`, `<option value="Guàrdia Urbana">`)
	mustContain(t, "the basic section in Spanish", author.get("/workspace/"+id+"/edit/basic?tl=es").body,
		`<option value="Parques y Jardines">`)

	// A department off the list is something a submission still needs to put right; the
	// listed one, in any case and spacing, is not.
	const offList = "Choose one of the council&#39;s departments: the data office keeps the list."
	mustNotContain(t, "an entry of a listed department", author.get("/workspace/"+id).body, offList)
	other := author.post("/workspace/new", url.Values{"lang": {"ca"}, "name": {"Cita prèvia"},
		"description_short": {"Assigna hores."}, "organization": {"Ajuntament de Barcelona"}, "department": {"Districte de Gràcia"}})
	expectStatus(t, other, http.StatusSeeOther)
	mustContain(t, "an entry of an unlisted department", author.get(other.Header.Get("Location")).body, offList)
	spaced := author.post("/workspace/new", url.Values{"lang": {"ca"}, "name": {"Cita prèvia 2"},
		"description_short": {"Assigna hores."}, "organization": {"Ajuntament de Barcelona"}, "department": {"parcs i  JARDINS"}})
	expectStatus(t, spaced, http.StatusSeeOther)
	mustNotContain(t, "a listed department in another case", author.get(spaced.Header.Get("Location")).body, offList)
	// A listed department takes the data office's names, in every language.
	sheet, _ := wsSheet(t, app, strings.TrimPrefix(spaced.Header.Get("Location"), "/workspace/"))
	if want := map[string]string{"ca": "Parcs i Jardins", "es": "Parques y Jardines", "en": "Parks and Gardens"}; !maps.Equal(sheet.Department, want) {
		t.Errorf("department %v, want the listed names %v", sheet.Department, want)
	}

	// Renamed and withdrawn: authors are no longer offered it.
	m := regexp.MustCompile(`href="/admin/departments/([0-9a-f-]{36})">Guàrdia Urbana<`).FindStringSubmatch(list.body)
	if m == nil {
		t.Fatalf("no link to the department's page:\n%s", list.body)
	}
	page := "/admin/departments/" + m[1]
	expectStatus(t, admin.get(page), http.StatusOK)
	expectRedirect(t, admin.post(page, url.Values{"name_ca": {"Guàrdia Urbana de Barcelona"}, "name_es": {"Guardia Urbana"},
		"name_en": {"City Police"}}), "/admin/departments")
	mustContain(t, "the list after withdrawing", admin.get("/admin/departments").body, "Guàrdia Urbana de Barcelona", "Not offered to authors")
	mustNotContain(t, "the basic section after withdrawing", author.get("/workspace/"+id+"/edit/basic?tl=ca").body, "Guàrdia Urbana")
	expectStatus(t, admin.post(page, url.Values{"name_ca": {"Parcs i Jardins"}, "name_es": {"x"}, "name_en": {"y"}, "active": {"1"}}),
		http.StatusUnprocessableEntity)
	expectStatus(t, admin.get("/admin/departments/00000000-0000-0000-0000-000000000000"), http.StatusNotFound)

	// Only the data office, and only from the register's own pages.
	expectStatus(t, author.get("/admin/departments"), http.StatusForbidden)
	expectStatus(t, author.post("/admin/departments", url.Values{"name_ca": {"A"}, "name_es": {"A"}, "name_en": {"A"}}), http.StatusForbidden)
	expectStatus(t, admin.post("/admin/departments", url.Values{"name_ca": {"B"}, "name_es": {"B"}, "name_en": {"B"}},
		"Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	var n int
	if err := app.pool.QueryRow(ctx, `SELECT count(*) FROM departments`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d departments, want the 2 the data office added", n)
	}
	if !strings.Contains(admin.get("/admin").body, `href="/admin/departments"`) {
		t.Error("the administration page does not lead to the departments")
	}
}
