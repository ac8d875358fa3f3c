package apidoc

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func openAPIDocument(t *testing.T) ([]byte, map[string]any) {
	t.Helper()
	b, err := OpenAPI(testBase)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return b, doc
}

func TestOpenAPIGolden(t *testing.T) {
	b, _ := openAPIDocument(t)
	golden(t, "openapi.json", b)
}

// pointer follows a local JSON pointer ("#/components/schemas/Error") in doc.
func pointer(doc map[string]any, ref string) (any, bool) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, false
	}
	var cur any = doc
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// deref returns the object v refers to, or v.
func deref(doc map[string]any, v any) map[string]any {
	m, _ := v.(map[string]any)
	for m != nil {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		target, _ := pointer(doc, ref)
		m, _ = target.(map[string]any)
	}
	return m
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIDocumentIsSound checks the document the way a code generator would read it:
// version, references, operations, answers, parameters, security and tags.
func TestOpenAPIDocumentIsSound(t *testing.T) {
	raw, doc := openAPIDocument(t)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	if servers := doc["servers"].([]any); servers[0].(map[string]any)["url"] != testBase {
		t.Errorf("servers = %v, want the base address", servers)
	}
	walk(doc, func(path string, m map[string]any) {
		if ref, ok := m["$ref"].(string); ok {
			if _, found := pointer(doc, ref); !found {
				t.Errorf("%s: $ref %s does not resolve", path, ref)
			}
		}
	}, "")

	tags := map[string]bool{}
	for _, tg := range doc["tags"].([]any) {
		tags[tg.(map[string]any)["name"].(string)] = true
	}
	schemes := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)
	ids := map[string]string{}
	for path, item := range doc["paths"].(map[string]any) {
		shared, _ := item.(map[string]any)["parameters"].([]any)
		for key, op := range item.(map[string]any) {
			if key == "parameters" {
				continue
			}
			if !slices.Contains(methods, key) {
				t.Errorf("%s: %q is not an operation", path, key)
				continue
			}
			where := strings.ToUpper(key) + " " + path
			checkOperation(t, doc, where, path, op.(map[string]any), shared, ids, tags, schemes)
		}
	}
	// Every schema compiles (a bad pattern or keyword would fail here).
	for name := range doc["components"].(map[string]any)["schemas"].(map[string]any) {
		compile(t, "https://x.test/openapi.json", raw, "#/components/schemas/"+name)
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func checkOperation(t *testing.T, doc map[string]any, where, path string, op map[string]any, shared []any, ids map[string]string, tags map[string]bool, schemes map[string]any) {
	t.Helper()
	id, _ := op["operationId"].(string)
	if id == "" {
		t.Errorf("%s: no operationId", where)
	} else if other, dup := ids[id]; dup {
		t.Errorf("%s: operationId %s is also %s's", where, id, other)
	}
	ids[id] = where
	for _, tg := range op["tags"].([]any) {
		if !tags[tg.(string)] {
			t.Errorf("%s: tag %v is not declared", where, tg)
		}
	}
	responses, _ := op["responses"].(map[string]any)
	if len(responses) == 0 {
		t.Errorf("%s: no responses", where)
	}
	for code, r := range responses {
		n, err := strconv.Atoi(code)
		if err != nil || http.StatusText(n) == "" {
			t.Errorf("%s: response %q is not an HTTP status", where, code)
		}
		if deref(doc, r)["description"] == nil {
			t.Errorf("%s %s: a response needs a description", where, code)
		}
	}
	declared := map[string]bool{}
	params, _ := op["parameters"].([]any)
	for _, p := range append(slices.Clone(shared), params...) {
		p := deref(doc, p)
		if p["in"] == "path" {
			declared[p["name"].(string)] = true
			if p["required"] != true {
				t.Errorf("%s: path parameter %v must be required", where, p["name"])
			}
		}
	}
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		if !declared[m[1]] {
			t.Errorf("%s: path parameter {%s} is not declared", where, m[1])
		}
		delete(declared, m[1])
	}
	for name := range declared {
		t.Errorf("%s: declares path parameter %s that the path does not have", where, name)
	}
	if sec, ok := op["security"].([]any); ok {
		for _, req := range sec {
			for name := range req.(map[string]any) {
				if schemes[name] == nil {
					t.Errorf("%s: unknown security scheme %s", where, name)
				}
			}
		}
	}
}
