package server

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/review"
)

// The OpenAPI document against the real router and the real answers: every /api route is
// described and every described address exists (TestAPIRoutesAreDocumented), and what the
// server answers has a status, media type and body the document lists
// (TestAPIAnswersMatchTheDocument).

var chiParam = regexp.MustCompile(`\{([^}:]+)(:[^}]*)?\}`)

// documentedOperations lists "METHOD /path" for every operation of the document.
func documentedOperations(doc map[string]any) map[string]bool {
	out := map[string]bool{}
	for path, item := range doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			if method != "parameters" && method != "summary" && method != "description" {
				out[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	return out
}

func TestAPIRoutesAreDocumented(t *testing.T) {
	app := newTestApp(t)
	res := app.client().get("/api/openapi.json")
	expectStatus(t, res, http.StatusOK)
	var doc map[string]any
	if err := json.Unmarshal([]byte(res.body), &doc); err != nil {
		t.Fatal(err)
	}
	documented := documentedOperations(doc)

	routes, ok := app.srv.Handler().(chi.Routes)
	if !ok {
		t.Fatal("the handler is not a chi router")
	}
	served := map[string]bool{}
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served[method+" "+chiParam.ReplaceAllString(route, "{$1}")] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing, unknown []string
	for op := range served {
		if _, path, _ := strings.Cut(op, " "); strings.HasPrefix(path, "/api/") && !documented[op] {
			missing = append(missing, op)
		}
	}
	for op := range documented {
		if !served[op] {
			unknown = append(unknown, op)
		}
	}
	slices.Sort(missing)
	slices.Sort(unknown)
	for _, op := range missing {
		t.Errorf("the router serves %s, which internal/apidoc/openapi.json does not describe", op)
	}
	for _, op := range unknown {
		t.Errorf("internal/apidoc/openapi.json describes %s, which the router does not serve", op)
	}
	if len(served) < 20 || len(documented) < 20 {
		t.Fatalf("only %d routes served, %d documented: the walk is broken", len(served), len(documented))
	}
}

// apiDescription is the served OpenAPI document, to check answers against.
type apiDescription struct {
	t       *testing.T
	doc     map[string]any
	c       *jsonschema.Compiler
	schemas map[string]*jsonschema.Schema
	checked int
}

const openapiURL = "https://registry.test/api/openapi.json"

func loadAPIDescription(t *testing.T, c *client) *apiDescription {
	t.Helper()
	res := c.get("/api/openapi.json")
	expectStatus(t, res, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.oai.openapi+json") {
		t.Errorf("OpenAPI Content-Type %q", ct)
	}
	if res.Header.Get("ETag") == "" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("OpenAPI headers %v", res.Header)
	}
	d := &apiDescription{t: t, c: jsonschema.NewCompiler(), schemas: map[string]*jsonschema.Schema{}}
	if err := json.Unmarshal([]byte(res.body), &d.doc); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	d.c.AssertFormat()
	if err := d.c.AddResource(openapiURL, inst); err != nil {
		t.Fatal(err)
	}
	return d
}

// schema compiles the schema at a JSON pointer of the document.
func (d *apiDescription) schema(ptr string) *jsonschema.Schema {
	d.t.Helper()
	if s, ok := d.schemas[ptr]; ok {
		return s
	}
	s, err := d.c.Compile(openapiURL + "#" + ptr)
	if err != nil {
		d.t.Fatalf("compile %s: %v", ptr, err)
	}
	d.schemas[ptr] = s
	return s
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// lookup follows a JSON pointer of the document.
func (d *apiDescription) lookup(ptr string) map[string]any {
	var cur any = d.doc
	for _, part := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, _ := cur.(map[string]any)
		cur = m[part]
	}
	m, _ := cur.(map[string]any)
	return m
}

// check asserts that the document lists res's status for the operation at template, with
// res's media type, and that the body is valid against the schema it gives.
func (d *apiDescription) check(res *response, template string) {
	d.t.Helper()
	method := strings.ToLower(res.Request.Method)
	where := res.Request.Method + " " + res.Request.URL.RequestURI()
	ptr := "/paths/" + escapePointer(template) + "/" + method + "/responses/" + strconv.Itoa(res.StatusCode)
	r := d.lookup(ptr)
	if r == nil {
		d.t.Errorf("%s answered %d, which the document does not list for %s %s", where, res.StatusCode, method, template)
		return
	}
	if ref, ok := r["$ref"].(string); ok {
		ptr = strings.TrimPrefix(ref, "#")
		r = d.lookup(ptr)
	}
	d.checked++
	content, _ := r["content"].(map[string]any)
	if method == "head" || len(content) == 0 || res.StatusCode == http.StatusNotModified {
		return
	}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if _, ok := content[mt]; !ok {
		d.t.Errorf("%s answered %s; the document lists %v", where, mt, content)
		return
	}
	s := d.schema(ptr + "/content/" + escapePointer(mt) + "/schema")
	switch {
	case mt == "application/x-ndjson":
		line := d.schema("/components/schemas/Algorithm")
		for _, l := range strings.Split(strings.TrimSpace(res.body), "\n") {
			d.validate(where+" (a line)", line, l)
		}
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		d.validate(where, s, res.body)
	}
}

func (d *apiDescription) validate(where string, s *jsonschema.Schema, body string) {
	d.t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		d.t.Errorf("%s: the body is not JSON: %v", where, err)
		return
	}
	if err := s.Validate(inst); err != nil {
		d.t.Errorf("%s: the body does not match the document:\n%v\n%.400s", where, err, body)
	}
}

// TestAPIAnswersMatchTheDocument makes real requests of every kind against a register
// holding the demo content and checks each answer against the document.
func TestAPIAnswersMatchTheDocument(t *testing.T) {
	app := newAppWithLimit(t, -1)
	demoStaff(t, app)
	anon := app.client()
	d := loadAPIDescription(t, anon)
	t.Run("register", func(t *testing.T) { d.t = t; checkRegisterAnswers(t, d, anon) })
	t.Run("open data", func(t *testing.T) { d.t = t; checkOpenDataAnswers(t, d, anon) })
	t.Run("authors", func(t *testing.T) { d.t = t; checkAuthorAnswers(t, d, app) })
	t.Run("review", func(t *testing.T) { d.t = t; checkReviewAnswers(t, d, app) })
	t.Run("transparency log", func(t *testing.T) { d.t = t; checkLogAnswers(t, d, anon) })
	t.Run("gone", func(t *testing.T) {
		d.t = t
		alg, err := app.srv.Algorithms().BySlug(context.Background(), "assistent-virtual-010")
		if err != nil {
			t.Fatal(err)
		}
		if err := app.srv.Review().Unpublish(context.Background(), alg.ID, "Suspès.", review.Actor{Email: "admin@example.org"}); err != nil {
			t.Fatal(err)
		}
		for _, rest := range []string{"", "/versions", "/versions/1"} {
			res := anon.get(apiBase + "assistent-virtual-010" + rest)
			expectStatus(t, res, http.StatusGone)
			d.check(res, "/api/v1/algorithms/{slug}"+strings.ReplaceAll(rest, "/1", "/{n}"))
		}
	})
	if d.checked < 40 {
		t.Errorf("only %d answers checked", d.checked)
	}
}

// checkRegisterAnswers reads the whole public register, page by page, and every entry,
// validating each record against the served JSON Schema too.
func checkRegisterAnswers(t *testing.T, d *apiDescription, c *client) {
	record := compileServed(t, c, "/api/v1/schema/algorithm.json")
	var slugs []string
	next := "/api/v1/algorithms?limit=4"
	for next != "" {
		res := c.get(next)
		expectStatus(t, res, http.StatusOK)
		d.check(res, "/api/v1/algorithms")
		var page struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor *string           `json:"next_cursor"`
		}
		_ = json.Unmarshal([]byte(res.body), &page)
		for _, it := range page.Items {
			d.validate("a listed record", record, string(it))
			var r struct{ Slug string }
			_ = json.Unmarshal(it, &r)
			slugs = append(slugs, r.Slug)
		}
		next = ""
		if page.NextCursor != nil {
			next = "/api/v1/algorithms?limit=4&cursor=" + *page.NextCursor
		}
	}
	if len(slugs) < 8 {
		t.Fatalf("only %d published entries", len(slugs))
	}
	for _, slug := range slugs {
		res := c.get(apiBase + slug)
		d.check(res, "/api/v1/algorithms/{slug}")
		d.validate(res.Request.URL.Path, record, res.body)
		d.check(c.get(apiBase+slug+"/versions"), "/api/v1/algorithms/{slug}/versions")
		d.check(c.get(apiBase+slug+"/versions/1"), "/api/v1/algorithms/{slug}/versions/{n}")
	}
	res := c.get(apiBase + slugs[0])
	d.check(c.apiRequest(http.MethodGet, apiBase+slugs[0], "", nil, "If-None-Match", res.Header.Get("ETag")), "/api/v1/algorithms/{slug}")
	d.check(c.apiRequest(http.MethodHead, apiBase+slugs[0], "", nil), "/api/v1/algorithms/{slug}")
	d.check(c.apiRequest(http.MethodOptions, apiBase+slugs[0], "", nil, "Origin", "https://elsewhere.example",
		"Access-Control-Request-Method", "GET"), "/api/v1/algorithms/{slug}")
	for path, template := range map[string]string{
		apiBase + "no-such-entry":            "/api/v1/algorithms/{slug}",
		apiBase + slugs[0] + "/versions/999": "/api/v1/algorithms/{slug}/versions/{n}",
		"/api/v1/algorithms?domain=magic":    "/api/v1/algorithms",
		"/api/v1/algorithms?limit=0":         "/api/v1/algorithms",
	} {
		res := c.get(path)
		if res.StatusCode < 400 {
			t.Errorf("GET %s: %d, want an error", path, res.StatusCode)
		}
		d.check(res, template)
	}
}

// compileServed compiles a JSON Schema the server serves.
func compileServed(t *testing.T, c *client, path string) *jsonschema.Schema {
	t.Helper()
	res := c.get(path)
	expectStatus(t, res, http.StatusOK)
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	comp := jsonschema.NewCompiler()
	comp.AssertFormat()
	if err := comp.AddResource("https://registry.test"+path, inst); err != nil {
		t.Fatal(err)
	}
	s, err := comp.Compile("https://registry.test" + path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkOpenDataAnswers(t *testing.T, d *apiDescription, c *client) {
	for _, path := range []string{"/api/v1/export.json", "/api/v1/export.json?versions=all", "/api/v1/export.ndjson",
		"/api/v1/export.csv", "/api/v1/export/eurocities.json", "/api/v1/datapackage.json", "/api/v1/schema/eurocities.json",
		"/api/v1/schema/algorithm.json", "/api/openapi.json", "/catalog.jsonld", "/catalog.ttl", "/healthz",
		"/api/v1/export.csv?versions=some"} {
		res := c.get(path)
		template, _, _ := strings.Cut(path, "?")
		d.check(res, template)
		if template != "/healthz" { // GET only
			d.check(c.apiRequest(http.MethodHead, path, "", nil), template)
		}
	}
	res := c.get("/api/openapi.json")
	d.check(c.apiRequest(http.MethodGet, "/api/openapi.json", "", nil, "If-None-Match", res.Header.Get("ETag")), "/api/openapi.json")
}

func checkAuthorAnswers(t *testing.T, d *apiDescription, app *testApp) {
	c := app.client()
	_, token := app.apiAuthor("apidoc-author@example.org")
	sheet, answers := demoDraft(t, "mapes-predictius-soroll")
	sheet["name"] = map[string]any{sheet["lang"].(string): "Mapes de soroll (prova de l'API)"}
	res := c.apiRequest(http.MethodPost, "/api/v1/algorithms", token, draftBody(sheet, answers))
	expectStatus(t, res, http.StatusCreated)
	d.check(res, "/api/v1/algorithms")
	draft := decodeDraft(t, res)
	path := "/api/v1/algorithms/" + draft.ID + "/draft"
	const tpl = "/api/v1/algorithms/{id}/draft"

	d.check(c.apiRequest(http.MethodGet, path, token, nil), tpl)
	d.check(c.apiRequest(http.MethodGet, path, token, nil, "If-None-Match", draft.ETag), tpl)
	d.check(c.apiRequest(http.MethodPut, path, token, draftBody(sheet, nil)), tpl) // 428
	d.check(c.apiRequest(http.MethodPut, path, token, draftBody(sheet, nil), "If-Match", `"stale"`), tpl)
	d.check(c.apiRequest(http.MethodPut, path, token, "{", "If-Match", draft.ETag), tpl)
	bad := map[string]any{"lang": "ca", "name": map[string]any{"ca": "x"}, "website": "javascript:alert(1)"}
	d.check(c.apiRequest(http.MethodPut, path, token, draftBody(bad, nil), "If-Match", draft.ETag), tpl)
	res = c.apiRequest(http.MethodPut, path, token, draftBody(sheet, nil), "If-Match", draft.ETag)
	expectStatus(t, res, http.StatusOK)
	d.check(res, tpl)
	d.check(c.apiRequest(http.MethodGet, "/api/v1/algorithms/00000000-0000-4000-8000-000000000000/draft", token, nil), tpl)
	d.check(c.apiRequest(http.MethodPost, "/api/v1/algorithms", "", draftBody(sheet, nil)), "/api/v1/algorithms")

	reviewer := app.user("apidoc-reviewer@example.org", auth.RoleReviewer)
	rtoken, _ := app.newToken(reviewer, "apidoc")
	d.check(c.apiRequest(http.MethodPost, "/api/v1/algorithms", rtoken, draftBody(sheet, nil)), "/api/v1/algorithms")

	res = c.apiRequest(http.MethodPost, "/api/v1/algorithms", token, draftBody(map[string]any{"lang": "es", "name": map[string]any{"es": "Incompleto"}}, nil))
	incomplete := decodeDraft(t, res)
	const submit = "/api/v1/algorithms/{id}/submit"
	d.check(c.apiRequest(http.MethodPost, "/api/v1/algorithms/"+incomplete.ID+"/submit", token, nil), submit) // 422
	res = c.apiRequest(http.MethodPost, "/api/v1/algorithms/"+draft.ID+"/submit", token, nil)
	expectStatus(t, res, http.StatusOK)
	d.check(res, submit)
	d.check(c.apiRequest(http.MethodPost, "/api/v1/algorithms/"+draft.ID+"/submit", token, nil), submit)   // 409
	d.check(c.apiRequest(http.MethodPut, path, token, draftBody(sheet, nil), "If-Match", draft.ETag), tpl) // 409
}

func checkReviewAnswers(t *testing.T, d *apiDescription, app *testApp) {
	c := app.client()
	reviewer := app.user("apidoc-reviewer2@example.org", auth.RoleReviewer)
	token, _ := app.newToken(reviewer, "apidoc")
	const queue, decision = "/api/v1/review/queue", "/api/v1/review/{revision}/decision"
	res := c.apiRequest(http.MethodGet, queue, token, nil)
	expectStatus(t, res, http.StatusOK)
	d.check(res, queue)
	items := decodeJSON[review.QueueList](t, res).Items
	if len(items) == 0 {
		t.Fatalf("only %d revisions waiting", len(items))
	}
	d.check(c.apiRequest(http.MethodGet, queue+"?risk=medium", token, nil), queue)
	d.check(c.apiRequest(http.MethodGet, queue, "", nil), queue)
	_, authorToken := app.apiAuthor("apidoc-author2@example.org")
	d.check(c.apiRequest(http.MethodGet, queue, authorToken, nil), queue)

	rev := items[0].RevisionID
	post := func(revision string, body any) *response {
		return c.apiRequest(http.MethodPost, "/api/v1/review/"+revision+"/decision", token, body)
	}
	d.check(post(rev, map[string]any{"decision": "maybe", "comment": "?"}), decision)
	d.check(post(rev, `{"decision": "approve", "comment": "ok", "colour": 1}`), decision)
	d.check(post("00000000-0000-4000-8000-000000000000", map[string]any{"decision": "approve", "comment": "ok"}), decision)
	res = post(rev, map[string]any{"decision": "approve", "comment": "Correcte.", "accept_exception": true})
	expectStatus(t, res, http.StatusOK)
	d.check(res, decision)
	d.check(post(rev, map[string]any{"decision": "approve", "comment": "Again."}), decision) // 409
	big := bytes.Repeat([]byte("x"), 3<<20)
	d.check(post(rev, `{"decision": "approve", "comment": "`+string(big)+`"}`), decision) // 413
}

func checkLogAnswers(t *testing.T, d *apiDescription, c *client) {
	res := c.get("/api/v1/log/records")
	expectStatus(t, res, http.StatusOK)
	d.check(res, "/api/v1/log/records")
	var recs struct{ Records []any }
	_ = json.Unmarshal([]byte(res.body), &recs)
	size := strconv.Itoa(len(recs.Records))
	if len(recs.Records) < 2 {
		t.Fatalf("only %d log records", len(recs.Records))
	}
	for path, status := range map[string]int{
		"/api/v1/log/records?start=1&limit=1":                         http.StatusOK,
		"/api/v1/log/records?limit=many":                              http.StatusUnprocessableEntity,
		"/api/v1/log/proof/inclusion?index=1&size=" + size:            http.StatusOK,
		"/api/v1/log/proof/inclusion?index=" + size + "&size=" + size: http.StatusBadRequest,
		"/api/v1/log/proof/consistency?old=1&size=" + size:            http.StatusOK,
		"/api/v1/log/proof/consistency?old=0&size=" + size:            http.StatusBadRequest,
		"/log/checkpoint": http.StatusOK,
		"/log/key":        http.StatusOK,
	} {
		res := c.get(path)
		expectStatus(t, res, status)
		template, _, _ := strings.Cut(path, "?")
		d.check(res, template)
	}
}

// TestCatalogueOnTheRegister reads the DCAT catalogue as a portal's harvester does and
// follows every distribution it lists.
func TestCatalogueOnTheRegister(t *testing.T) {
	app := newTestApp(t)
	publishDemo(t, app, "risc-caiguda-arbrat")
	c := app.bareClient()
	res := c.get("/catalog.jsonld")
	expectStatus(t, res, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "application/ld+json" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("Content-Type %q, CORS %q", ct, res.Header.Get("Access-Control-Allow-Origin"))
	}
	var doc struct {
		Context map[string]string `json:"@context"`
		Graph   []map[string]any  `json:"@graph"`
	}
	if err := json.Unmarshal([]byte(res.body), &doc); err != nil {
		t.Fatalf("the JSON-LD is not JSON: %v", err)
	}
	for p, ns := range map[string]string{"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
		"foaf": "http://xmlns.com/foaf/0.1/", "vcard": "http://www.w3.org/2006/vcard/ns#"} {
		if doc.Context[p] != ns {
			t.Errorf("@context: %s = %q, want %s", p, doc.Context[p], ns)
		}
	}
	downloads := checkCatalogueGraph(t, doc.Graph)
	ttl := c.get("/catalog.ttl")
	expectStatus(t, ttl, http.StatusOK)
	for _, u := range downloads {
		// The test server's base address is http://127.0.0.1 without its port.
		rest, ok := strings.CutPrefix(u, "http://127.0.0.1/")
		if !ok {
			t.Errorf("download URL %s is not absolute under the base address", u)
			continue
		}
		expectStatus(t, c.get("/"+rest), http.StatusOK)
		if !strings.Contains(ttl.body, "<"+u+">") {
			t.Errorf("the Turtle does not list %s", u)
		}
	}
	if ct := ttl.Header.Get("Content-Type"); ct != "text/turtle; charset=utf-8" {
		t.Errorf("Turtle Content-Type %q", ct)
	}
	again := c.apiRequest(http.MethodGet, "/catalog.ttl", "", nil, "If-None-Match", ttl.Header.Get("ETag"))
	expectStatus(t, again, http.StatusNotModified)
}

// checkCatalogueGraph checks the classes in the JSON-LD graph and returns the download URLs.
func checkCatalogueGraph(t *testing.T, graph []map[string]any) []string {
	t.Helper()
	types := map[string]int{}
	var downloads []string
	for _, n := range graph {
		for _, ty := range asStrings(n["@type"]) {
			types[ty]++
		}
		for _, u := range asList(n["dcat:downloadURL"]) {
			downloads = append(downloads, u.(map[string]any)["@id"].(string))
		}
		if _, ok := n["dct:modified"]; ok && slices.Contains(asStrings(n["@type"]), "dcat:Catalog") {
			types["modified"]++
		}
	}
	for _, ty := range []string{"dcat:Catalog", "dcat:Dataset", "dcat:DataService", "modified"} {
		if types[ty] != 1 {
			t.Errorf("%d nodes of %s, want 1", types[ty], ty)
		}
	}
	if types["dcat:Distribution"] != 4 || len(downloads) != 4 {
		t.Errorf("%d distributions with %d download URLs, want 4", types["dcat:Distribution"], len(downloads))
	}
	return downloads
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
