// The catalogue tests keep messages/ca.json and messages/es.json complete: every string the
// UI can show must have a Catalan and a Spanish translation. When TestTranslationsComplete
// fails it prints the missing keys as JSON lines: paste them into the file it names and
// write the translation in place of each empty value (an empty value counts as missing).
//
// The keys are the English text, found in three places.
//
// 1. Templates: every `t "…"` call in web/templates/**/*.html, as in {{t "Sign in"}},
// (t "E-mail address") or {{t "Account created for %s." .Data.Created}}. The key must be a
// string literal right after t; {{"x" | t}} is not seen.
//
// 2. Go code in internal/ and cmd/ (test files excepted), read with go/parser:
//   - the key of a call to any function or method named T: its first argument when that is
//     a string literal, else its second (rd.T(r, key, …), cat.T(lang, key, …));
//   - the message of apperr.New(code, message) (New inside package apperr);
//   - the arguments of any call named InvalidFields, with the values (not the keys) of the
//     map[string]string literal passed to it;
//   - the fourth argument of a Redirect method, the flash message (http.Redirect is not one);
//   - Message: and Fields: (map values) of an apperr.Error composite literal, or assigned to
//     e.Message or e.Fields[k] where e holds an apperr error; the values of any
//     map[string]string literal given to a Fields: field;
//   - the values of the package-level map defaultMessages (internal/web/errors.go);
//   - any string literal on a line that ends with the comment `// i18n` (or `// i18n: why`),
//     map keys excepted. On the line that opens a composite literal the mark takes in all
//     its values, for a table of labels.
//
// Where one of those arguments is a variable or a call, the test follows it a little: the
// string literals assigned to the variable in the same function (also as a map element,
// fields["email"] = "…"), the package-level constant or variable of that name (a map's
// values, for messages[code]), and the string literals returned by a function of the same
// package called there. So `flash = "Saved."` then rd.Redirect(w, r, url, flash) is seen.
//
// 3. dynamicKeys below: keys that templates translate from data, as in {{t .}}. Add new
// dynamic keys (a new role, a state shown with {{t .State}}, …) to that list, or mark the
// Go table they come from with `// i18n`. TestTranslationsComplete logs every template
// call of t whose key is not a literal, to help find them.
//
// The convention for marking Go strings, then:
//
//	const savedMessage = "Your changes were saved." // i18n
//
//	var sectionTitles = map[string]string{ // i18n
//		"basic": "Basic information",
//		"data":  "Data",
//	}
//
// The tests also fail when a translation's fmt verbs (%s, %d, %v, %q, %[1]s, …) differ from
// its key's, and when a key is in one of ca.json and es.json but not the other. Keys in the
// files that no source above uses are only logged (go test -v): remove them when unused.
package i18n_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"testing"

	"github.com/civictech/registry/internal/i18n"
)

// dynamicKeys are the keys templates translate from data ({{t .}}), which no scan can find.
// New dynamic keys go here.
var dynamicKeys = slices.Concat(
	// Roles (auth.Roles), shown with {{t .}} on the account and administration pages.
	[]string{"author", "reviewer", "expert", "admin"},
	// Enumerations and tables of the algorithms package, shown with {{t .}}.
	algorithms.Domains, algorithms.Statuses, algorithms.AlgorithmTypes, algorithms.Types,
	algorithms.SpecialCategories, risk.Tiers, stateKeys(),
	[]string{"decision:approve", "decision:request_changes", "decision:reject"},
	[]string{"log:publication", "log:unpublish", "log:decision"},
	// Language names in running text (langname in internal/web).
	[]string{"language:ca", "language:es", "language:en"},
	slices.Collect(maps.Values(algorithms.FieldLabels)),
	slices.Collect(maps.Values(algorithms.FieldHints)),
	slices.Collect(maps.Values(algorithms.SectionTitles)),
)

// stateKeys are the keys of the revision-state badges ("state:draft" …).
func stateKeys() []string {
	var out []string
	for _, s := range algorithms.States {
		out = append(out, "state:"+s)
	}
	return out
}

// translated are the languages with a messages file; English is the keys themselves.
var translated = []i18n.Lang{i18n.Catalan, i18n.Spanish}

// langName names a language in English, for the test's messages.
var langName = map[i18n.Lang]string{i18n.Catalan: "Catalan", i18n.Spanish: "Spanish", i18n.English: "English"}

// keySet maps each key to where it was found ("web/templates/pages/login.html:7").
type keySet map[string][]string

func (k keySet) add(key, where string) {
	if key == "" {
		return
	}
	if !slices.Contains(k[key], where) {
		k[key] = append(k[key], where)
	}
}

func (k keySet) sorted() []string {
	out := make([]string, 0, len(k))
	for key := range k {
		out = append(out, key)
	}
	sort.Strings(out)
	return out
}

// repoRoot returns the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	return root
}

// usedKeys returns every key the UI uses: templates, Go code and dynamicKeys. A file that
// cannot be read or parsed fails the test, since its keys would go unchecked.
func usedKeys(t *testing.T) keySet {
	t.Helper()
	root := repoRoot(t)
	keys := keySet{}
	errs := scanTemplates(root, keys)
	errs = append(errs, scanGo(root, keys)...)
	for _, err := range errs {
		t.Error(err)
	}
	for _, k := range dynamicKeys {
		keys.add(k, "dynamicKeys in internal/i18n/catalogue_test.go")
	}
	if len(keys) == len(dynamicKeys) {
		t.Fatal("no keys found in web/templates or the Go code: is the scan broken?")
	}
	return keys
}

// --- templates ---

var (
	// tmplComment matches a template comment, which may well mention t "…" without calling it.
	tmplComment = regexp.MustCompile(`(?s)\{\{-?\s*/\*.*?\*/\s*-?\}\}`)
	// tmplCall matches t at the start of an action or of a parenthesised pipeline, then its
	// string literal ("…" with escapes, or `…`).
	tmplCall = regexp.MustCompile(`(?:\{\{-?|\()\s*t\s+("(?:[^"\\\n]|\\.)*"|` + "`[^`]*`)")
)

// tmplDynamic matches a call of t whose key is data: {{t .}}, (t $f.Label),
// {{t (printf "state:%s" .)}}.
var tmplDynamic = regexp.MustCompile(`(?:\{\{-?|\()\s*t\s+(\([^()]*\)|[.$][^\s(){}]*)`)

// dynamicCalls returns where templates call t with a key that is not a literal.
func dynamicCalls(root string) []string {
	var out []string
	dir := filepath.Join(root, "web", "templates")
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return nil
		}
		if src, err := os.ReadFile(path); err == nil {
			rel, _ := filepath.Rel(root, path)
			out = append(out, templateDynamic(filepath.ToSlash(rel), string(src))...)
		}
		return nil
	})
	return out
}

// templateDynamic returns the calls of t on data in one template's source.
func templateDynamic(name, src string) []string {
	src = stripComments(src)
	var out []string
	for _, m := range tmplDynamic.FindAllStringSubmatchIndex(src, -1) {
		line := 1 + strings.Count(src[:m[0]], "\n")
		out = append(out, fmt.Sprintf("%s:%d: t %s", name, line, src[m[2]:m[3]]))
	}
	return out
}

// stripComments blanks out template comments, keeping their newlines so that line numbers
// stay right.
func stripComments(src string) string {
	return tmplComment.ReplaceAllStringFunc(src, func(c string) string {
		return strings.Repeat("\n", strings.Count(c, "\n"))
	})
}

// scanTemplates adds the keys of every template under web/templates.
func scanTemplates(root string, keys keySet) []error {
	var errs []error
	dir := filepath.Join(root, "web", "templates")
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		errs = append(errs, templateKeys(filepath.ToSlash(rel), string(src), keys)...)
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("read templates: %w", err))
	}
	return errs
}

// templateKeys adds the keys of one template's source; name is for messages.
func templateKeys(name, src string, keys keySet) []error {
	src = stripComments(src)
	var errs []error
	for _, m := range tmplCall.FindAllStringSubmatchIndex(src, -1) {
		lit := src[m[2]:m[3]]
		where := fmt.Sprintf("%s:%d", name, 1+strings.Count(src[:m[2]], "\n"))
		key, err := strconv.Unquote(lit)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: bad string literal %s: %v", where, lit, err))
			continue
		}
		keys.add(key, where)
	}
	return errs
}

// --- Go code ---

// scanGo adds the keys of every non-test Go file under internal/ and cmd/.
func scanGo(root string, keys keySet) []error {
	var errs []error
	dirs := map[string][]string{} // directory → its .go files
	for _, top := range []string{"internal", "cmd"} {
		start := filepath.Join(root, top)
		err := filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if path != start && (name == "testdata" || name == "vendor" ||
					strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
				dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], path)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("walk %s: %w", top, err))
		}
	}
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		fset := token.NewFileSet()
		pkgs := map[string][]*ast.File{} // by package name (a directory may hold main and a test helper)
		for _, path := range dirs[dir] {
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			pkgs[f.Name.Name] = append(pkgs[f.Name.Name], f)
		}
		where := func(p token.Pos) string {
			pos := fset.Position(p)
			rel, err := filepath.Rel(root, pos.Filename)
			if err != nil {
				rel = pos.Filename
			}
			return fmt.Sprintf("%s:%d", filepath.ToSlash(rel), pos.Line)
		}
		for _, files := range pkgs {
			scanGoPackage(fset, files, where, keys)
		}
	}
	return errs
}

// goPackage is one package being scanned.
type goPackage struct {
	fset     *token.FileSet
	funcs    map[string]*ast.FuncDecl // top-level functions returning one string, by name
	values   map[string]ast.Expr      // package-level constants and variables, by name
	returned map[*ast.FuncDecl]bool   // functions whose returns are already followed
	where    func(token.Pos) string
	keys     keySet
}

func scanGoPackage(fset *token.FileSet, files []*ast.File, where func(token.Pos) string, keys keySet) {
	p := &goPackage{fset: fset, funcs: map[string]*ast.FuncDecl{}, values: map[string]ast.Expr{},
		returned: map[*ast.FuncDecl]bool{}, where: where, keys: keys}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Body != nil && returnsOneString(d.Type) {
					p.funcs[d.Name.Name] = d
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if vs, ok := s.(*ast.ValueSpec); ok && len(vs.Values) == len(vs.Names) {
						for i, n := range vs.Names {
							p.values[n.Name] = vs.Values[i]
						}
					}
				}
			}
		}
	}
	for _, f := range files {
		p.scanFile(f)
	}
}

func returnsOneString(ft *ast.FuncType) bool {
	if ft.Results == nil || len(ft.Results.List) != 1 || len(ft.Results.List[0].Names) > 1 {
		return false
	}
	id, ok := ft.Results.List[0].Type.(*ast.Ident)
	return ok && id.Name == "string"
}

// fileScan holds what one file calls its imports.
type fileScan struct {
	*goPackage
	apperr   string // local name of package apperr, "" when not imported
	http     string // local name of net/http
	inApperr bool   // the file is package apperr itself
}

func (p *goPackage) scanFile(f *ast.File) {
	s := &fileScan{goPackage: p, inApperr: f.Name.Name == "apperr"}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		local := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			local = imp.Name.Name
		}
		switch {
		case path == "net/http":
			s.http = local
		case strings.HasSuffix(path, "/internal/apperr"):
			s.apperr = local
		}
	}
	for _, d := range f.Decls {
		vars := map[string]bool{}
		errVars := s.errorVars(d)
		ast.Inspect(d, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				s.call(n, vars)
			case *ast.CompositeLit:
				s.composite(n, vars)
			case *ast.AssignStmt: // e.Message = "…", e.Fields[path] = msg, e being an *apperr.Error
				if len(n.Lhs) != len(n.Rhs) {
					return true
				}
				for i, l := range n.Lhs {
					if ix, ok := l.(*ast.IndexExpr); ok {
						l = ix.X
					}
					if sel, ok := l.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Message" || sel.Sel.Name == "Fields") {
						if x, ok := sel.X.(*ast.Ident); ok && errVars[x.Name] {
							s.sink(n.Rhs[i], vars)
						}
					}
				}
			}
			return true
		})
		fd, _ := d.(*ast.FuncDecl)
		if gd, ok := d.(*ast.GenDecl); ok {
			for _, spec := range gd.Specs {
				if vs, ok := spec.(*ast.ValueSpec); ok {
					for i, n := range vs.Names {
						if n.Name == "defaultMessages" && i < len(vs.Values) {
							p.sink(vs.Values[i], vars)
						}
					}
				}
			}
		}
		p.resolve(fd, vars)
	}
	s.marked(f)
}

// errorVars returns the variables that d assigns an apperr error to.
func (s *fileScan) errorVars(d ast.Decl) map[string]bool {
	out := map[string]bool{}
	ast.Inspect(d, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) == len(n.Rhs) {
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && s.isAppErr(n.Rhs[i]) {
						out[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if i < len(n.Values) && s.isAppErr(n.Values[i]) {
					out[id.Name] = true
				}
			}
		}
		return true
	})
	return out
}

// isAppErr reports whether e makes an apperr error: &apperr.Error{…}, apperr.New(…),
// apperr.InvalidFields(…).
func (s *fileScan) isAppErr(e ast.Expr) bool {
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = u.X
	}
	switch e := e.(type) {
	case *ast.CompositeLit:
		return s.isErrorType(e.Type)
	case *ast.CallExpr:
		name, recv := callee(e.Fun)
		return (name == "New" || name == "InvalidFields") &&
			((s.apperr != "" && recv == s.apperr) || (s.inApperr && recv == ""))
	}
	return false
}

// isErrorType reports whether t names apperr.Error.
func (s *fileScan) isErrorType(t ast.Expr) bool {
	switch t := t.(type) {
	case *ast.SelectorExpr:
		x, ok := t.X.(*ast.Ident)
		return ok && s.apperr != "" && x.Name == s.apperr && t.Sel.Name == "Error"
	case *ast.Ident:
		return s.inApperr && t.Name == "Error"
	}
	return false
}

// callee returns the name of the function called and, for pkg.F or x.F, the name of x.
func callee(fun ast.Expr) (name, recv string) {
	switch fun := fun.(type) {
	case *ast.Ident:
		return fun.Name, ""
	case *ast.SelectorExpr:
		if x, ok := fun.X.(*ast.Ident); ok {
			return fun.Sel.Name, x.Name
		}
		return fun.Sel.Name, "."
	}
	return "", ""
}

func (s *fileScan) call(c *ast.CallExpr, vars map[string]bool) {
	name, recv := callee(c.Fun)
	args := c.Args
	switch name {
	case "T":
		if len(args) == 0 {
			return
		}
		if _, ok := constString(args[0]); ok || len(args) == 1 {
			s.sink(args[0], vars)
		} else {
			s.sink(args[1], vars)
		}
	case "New":
		if len(args) >= 2 && ((s.apperr != "" && recv == s.apperr) || (s.inApperr && recv == "")) {
			s.sink(args[1], vars)
		}
	case "InvalidFields":
		for _, a := range args {
			s.sink(a, vars)
		}
	case "Redirect":
		if len(args) >= 4 && (recv == "" || recv != s.http) {
			s.sink(args[3], vars)
		}
	}
}

func (s *fileScan) composite(cl *ast.CompositeLit, vars map[string]bool) {
	isError := s.isErrorType(cl.Type)
	for _, e := range cl.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		key, ok := kv.Key.(*ast.Ident)
		if !ok {
			continue
		}
		switch {
		case isError && (key.Name == "Message" || key.Name == "Fields"):
			s.sink(kv.Value, vars)
		case key.Name == "Fields" && isStringMap(kv.Value):
			s.sink(kv.Value, vars)
		}
	}
}

func isStringMap(e ast.Expr) bool {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return false
	}
	mt, ok := cl.Type.(*ast.MapType)
	if !ok {
		return false
	}
	k, kok := mt.Key.(*ast.Ident)
	v, vok := mt.Value.(*ast.Ident)
	return kok && vok && k.Name == "string" && v.Name == "string"
}

// sink records e as a key: a string constant is one; a variable, map or call is followed.
func (p *goPackage) sink(e ast.Expr, vars map[string]bool) {
	if v, ok := constString(e); ok {
		p.keys.add(v, p.where(e.Pos()))
		return
	}
	switch e := e.(type) {
	case *ast.ParenExpr:
		p.sink(e.X, vars)
	case *ast.Ident:
		if e.Name != "nil" && e.Name != "_" {
			vars[e.Name] = true
		}
	case *ast.CompositeLit: // a map (or slice) of message keys: its values
		for _, el := range e.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				p.sink(kv.Value, vars)
			} else {
				p.sink(el, vars)
			}
		}
	case *ast.IndexExpr: // messages[code]
		p.sink(e.X, vars)
	case *ast.CallExpr: // validate(x), a function of this package returning the key
		if id, ok := e.Fun.(*ast.Ident); ok {
			if fd := p.funcs[id.Name]; fd != nil {
				p.returns(fd)
			}
		}
	}
}

// returns records what fd returns as keys.
func (p *goPackage) returns(fd *ast.FuncDecl) {
	if p.returned[fd] {
		return
	}
	p.returned[fd] = true
	vars := map[string]bool{}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			if len(n.Results) == 1 {
				p.sink(n.Results[0], vars)
			}
		}
		return true
	})
	p.resolve(fd, vars)
}

// resolve follows the variables in vars, which hold keys: what fd assigns to them (or to
// their elements), else the package-level constant or variable of that name.
func (p *goPackage) resolve(fd *ast.FuncDecl, vars map[string]bool) {
	done := map[string]bool{}
	local := map[string]bool{}
	if fd != nil {
		for _, fl := range []*ast.FieldList{fd.Recv, fd.Type.Params, fd.Type.Results} {
			if fl == nil {
				continue
			}
			for _, f := range fl.List {
				for _, n := range f.Names {
					local[n.Name] = true
				}
			}
		}
	}
	for {
		want := map[string]bool{}
		for v := range vars {
			if !done[v] {
				want[v], done[v] = true, true
			}
		}
		if len(want) == 0 {
			return
		}
		if fd != nil && fd.Body != nil {
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.AssignStmt:
					if n.Tok != token.ASSIGN && n.Tok != token.DEFINE {
						return true
					}
					for i, l := range n.Lhs {
						name, elem := assignee(l)
						if n.Tok == token.DEFINE && !elem {
							local[name] = true
						}
						switch {
						case !want[name]:
						case len(n.Lhs) == len(n.Rhs):
							p.sink(n.Rhs[i], vars)
						case i == 0 && len(n.Rhs) == 1: // msg, ok := messages[tag]
							if ix, ok := n.Rhs[0].(*ast.IndexExpr); ok {
								p.sink(ix, vars)
							}
						}
					}
				case *ast.ValueSpec:
					for i, id := range n.Names {
						local[id.Name] = true
						if want[id.Name] && len(n.Values) == len(n.Names) {
							p.sink(n.Values[i], vars)
						}
					}
				case *ast.RangeStmt:
					for _, x := range []ast.Expr{n.Key, n.Value} {
						if id, ok := x.(*ast.Ident); ok {
							local[id.Name] = true
						}
					}
				}
				return true
			})
		}
		for v := range want {
			if e, ok := p.values[v]; ok && !local[v] {
				p.sink(e, vars)
			}
		}
	}
}

// assignee returns the variable an assignment's left side writes: x, or x in x[k].
func assignee(l ast.Expr) (name string, elem bool) {
	switch l := l.(type) {
	case *ast.Ident:
		return l.Name, false
	case *ast.IndexExpr:
		if id, ok := l.X.(*ast.Ident); ok {
			return id.Name, true
		}
	}
	return "", false
}

// constString returns the value of a string literal, or of a concatenation of them.
func constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		v, err := strconv.Unquote(e.Value)
		return v, err == nil
	case *ast.ParenExpr:
		return constString(e.X)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, aok := constString(e.X)
		b, bok := constString(e.Y)
		return a + b, aok && bok
	}
	return "", false
}

// isMarker reports whether a comment is the `// i18n` mark.
func isMarker(text string) bool {
	t := strings.TrimPrefix(text, "//")
	if strings.HasPrefix(text, "/*") {
		t = strings.TrimSuffix(strings.TrimPrefix(text, "/*"), "*/")
	}
	t = strings.TrimSpace(t)
	return t == "i18n" || strings.HasPrefix(t, "i18n:")
}

// marked adds every string literal on a line that ends with the `// i18n` mark.
func (s *fileScan) marked(f *ast.File) {
	lines := map[int]bool{}
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if isMarker(c.Text) {
				lines[s.fset.Position(c.Slash).Line] = true
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	skip := map[ast.Expr]bool{} // struct tags and map keys are not messages
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ImportSpec:
			return false
		case *ast.Field:
			if n.Tag != nil {
				skip[n.Tag] = true
			}
		case *ast.KeyValueExpr:
			skip[n.Key] = true
		case *ast.CompositeLit: // a marked opening line marks the whole table
			if lines[s.fset.Position(n.Lbrace).Line] {
				s.sink(n, map[string]bool{})
			}
		case *ast.BasicLit:
			if n.Kind == token.STRING && !skip[n] &&
				(lines[s.fset.Position(n.Pos()).Line] || lines[s.fset.Position(n.End()).Line]) {
				if v, err := strconv.Unquote(n.Value); err == nil {
					s.keys.add(v, s.where(n.Pos()))
				}
			}
		}
		return true
	})
}

// --- the messages files ---

// readMessages reads messages/<lang>.json, refusing duplicate keys (JSON would keep the last).
func readMessages(t *testing.T, l i18n.Lang) map[string]string {
	t.Helper()
	name := filepath.Join("messages", string(l)+".json")
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	msgs := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: want a JSON object of key → translation (%v)", name, err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		key := tok.(string)
		var v string
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: value of %q: %v", name, key, err)
		}
		if _, dup := msgs[key]; dup {
			t.Errorf("%s: key %q appears twice", name, key)
		}
		msgs[key] = v
	}
	if _, err := dec.Token(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return msgs
}

// jsonString quotes s as JSON, leaving <, > and & as they are.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// snippet formats keys as JSON object members with empty values, ready to paste.
func snippet(keys []string, value func(string) string) string {
	var b strings.Builder
	for i, k := range keys {
		fmt.Fprintf(&b, "  %s: %s", jsonString(k), jsonString(value(k)))
		if i < len(keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func empty(string) string { return "" }

// quoted returns each key as JSON.
func quoted(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = jsonString(k)
	}
	return out
}

// --- the tests ---

// TestTranslationsComplete fails when a key the UI uses has no Catalan or Spanish.
func TestTranslationsComplete(t *testing.T) {
	if _, err := i18n.Load(); err != nil {
		t.Fatalf("the catalogue does not load: %v", err)
	}
	keys := usedKeys(t)
	t.Logf("%d keys in use", len(keys))
	if calls := dynamicCalls(repoRoot(t)); len(calls) > 0 {
		t.Logf("%d template calls translate data; their keys must be in dynamicKeys or marked // i18n in Go:\n  %s",
			len(calls), strings.Join(calls, "\n  "))
	}
	for _, l := range translated {
		msgs := readMessages(t, l)
		var missing []string
		for _, k := range keys.sorted() {
			if strings.TrimSpace(msgs[k]) == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			continue
		}
		var where strings.Builder
		for _, k := range missing {
			fmt.Fprintf(&where, "  %s  ← %s\n", jsonString(k), strings.Join(keys[k], ", "))
		}
		t.Errorf("internal/i18n/messages/%s.json lacks %d %s translations.\n"+
			"Add these members to it (keep the keys sorted) and write the %s in place of each empty value:\n\n%s\n"+
			"Where they are used:\n%s"+
			"(Keys that templates translate from data, as in {{t .}}, are not found here: list them in dynamicKeys "+
			"in internal/i18n/catalogue_test.go, or mark the Go table they come from with // i18n.)",
			l, len(missing), langName[l], langName[l], snippet(missing, empty), where.String())
	}
}

// verbRE matches a fmt verb with its flags, width, precision and argument index; %% is
// matched so that it can be dropped.
var verbRE = regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*(?:\*|\d+)?(?:\.(?:\*|\d+)?)?(?:\[\d+\])?[a-zA-Z%]`)

// verbs returns the fmt verb letters in s, sorted: "%[2]s and %d" → [d s].
func verbs(s string) []string {
	var out []string
	for _, v := range verbRE.FindAllString(s, -1) {
		if v != "%%" {
			out = append(out, v[len(v)-1:])
		}
	}
	sort.Strings(out)
	return out
}

// TestTranslationsVerbs fails when a translation does not take the values its key takes.
func TestTranslationsVerbs(t *testing.T) {
	for _, l := range translated {
		msgs := readMessages(t, l)
		for _, k := range slices.Sorted(maps.Keys(msgs)) {
			v := msgs[k]
			if v == "" {
				continue
			}
			if want, got := verbs(k), verbs(v); !slices.Equal(want, got) {
				t.Errorf("messages/%s.json: the translation of %s has %d fmt verbs %v, the key %d %v "+
					"(a literal %% is written %%%%):\n  %s: %s",
					l, jsonString(k), len(got), got, len(want), want, jsonString(k), jsonString(v))
			}
		}
	}
}

// TestTranslationFilesAgree fails when ca.json and es.json do not hold the same keys, and
// logs the keys that no template or Go code uses any more.
func TestTranslationFilesAgree(t *testing.T) {
	files := map[i18n.Lang]map[string]string{}
	for _, l := range translated {
		files[l] = readMessages(t, l)
	}
	for _, a := range translated {
		for _, b := range translated {
			if a == b {
				continue
			}
			var only []string
			for k := range files[a] {
				if _, ok := files[b][k]; !ok {
					only = append(only, k)
				}
			}
			if len(only) > 0 {
				sort.Strings(only)
				t.Errorf("%d keys are in messages/%s.json but not in messages/%s.json; add them there "+
					"(in %s) or remove them from %s.json:\n\n%s",
					len(only), a, b, langName[b], a, snippet(only, func(k string) string { return files[a][k] }))
			}
		}
	}
	used := usedKeys(t)
	stale := map[string]bool{}
	for _, l := range translated {
		for k := range files[l] {
			if _, ok := used[k]; !ok {
				stale[k] = true
			}
		}
	}
	if len(stale) > 0 {
		t.Logf("%d translated keys are not used by any template or Go code this test can see; "+
			"remove them if they are really unused:\n  %s", len(stale), strings.Join(quoted(slices.Sorted(maps.Keys(stale))), "\n  "))
	}
}

// TestKeyExtraction checks the scanners themselves on small sources.
func TestKeyExtraction(t *testing.T) {
	t.Run("templates", func(t *testing.T) {
		src := "{{define \"main\"}}\n" +
			`<h1>{{t "Sign in"}}</h1>{{- t "Trimmed" -}}` + "\n" +
			`{{template "input" (dict "Label" (t "E-mail address") "Hint" (t "Say \"hello\"."))}}` + "\n" +
			`{{t "Account created for %s." .Data.Created}} {{ t "Spaced" }} {{t .}} {{.Form.Get "next"}}` + "\n" +
			"{{/* not this: {{t \"Commented\"}} */}}{{t `Raw`}}\n{{end}}"
		keys := keySet{}
		if errs := templateKeys("x.html", src, keys); len(errs) > 0 {
			t.Fatal(errs)
		}
		want := []string{"Account created for %s.", "E-mail address", "Raw", "Say \"hello\".", "Sign in", "Spaced", "Trimmed"}
		if got := keys.sorted(); !slices.Equal(got, want) {
			t.Errorf("got %q\nwant %q", got, want)
		}
		if got := keys["Raw"]; !slices.Equal(got, []string{"x.html:5"}) {
			t.Errorf("Raw found at %v, want x.html:5", got)
		}
		dyn := templateDynamic("x.html", src+"\n{{t (printf \"state:%s\" .)}} (t $f.Label)")
		if want := []string{"x.html:4: t .", "x.html:7: t (printf \"state:%s\" .)", "x.html:7: t $f.Label"}; !slices.Equal(dyn, want) {
			t.Errorf("dynamic calls %q, want %q", dyn, want)
		}
	})
	t.Run("go", func(t *testing.T) {
		const src = `package auth

import (
	"net/http"

	ae "github.com/civictech/registry/internal/apperr"
)

const notFound = "No such thing."

var labels = map[string]string{"a": "Label A"} // i18n

var defaultMessages = map[ae.Code]string{ae.Invalid: "Default message."}

var titles = map[string]string{ // i18n
	"basic": "Basic information",
	"data":  "Data",
}

var other = map[string]string{"x": "Not a key."}

func validate(s string) string {
	if s == "" {
		return "Enter something."
	}
	return ""
}

var messages = map[string]string{"max": "Use at most %s characters."}

const tooMany = "Add at most %s items."

func toError(tag string, n int) error {
	e := &ae.Error{Code: ae.Invalid, Fields: map[string]string{}}
	msg, ok := messages[tag]
	if !ok {
		msg = "Not valid."
	}
	if n > 3 {
		msg = tooMany
	}
	e.Fields["x"] = msg
	_ = Problem{Message: "Not an apperr.Error: mark it."}
	return e
}

func h(rd *R, w http.ResponseWriter, r *http.Request, in string) error {
	_ = rd.T(r, "Title")
	_ = cat.T("Direct key %d", 3)
	_ = rd.T(r, labels["a"], "not a key")
	http.Redirect(w, r, "/x", http.StatusSeeOther)
	var flash string
	switch in {
	case "a":
		flash = "Saved."
	default:
		_, flash = 1, "Done."
	}
	_ = rd.Redirect(w, r, "/y", flash)
	_ = rd.Redirect(w, r, "/y", "")
	fields := map[string]string{}
	fields["email"] = "Enter an e-mail address."
	if msg := validate(in); msg != "" {
		fields["name"] = msg
	}
	_ = ae.InvalidFields("Please correct the errors below.", fields)
	_ = ae.InvalidFields("Please correct the errors below.", map[string]string{"code": "Bad code."})
	_ = &ae.Error{Code: ae.Conflict, Message: "Changed " + "meanwhile.", Fields: map[string]string{"f": "Field message."}}
	_ = ae.New(ae.NotFound, notFound)
	_ = errors.New("not a key")
	_ = other
	return nil
}
`
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "auth.go", src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		keys := keySet{}
		scanGoPackage(fset, []*ast.File{f}, func(p token.Pos) string { return fset.Position(p).String() }, keys)
		want := []string{"Add at most %s items.", "Bad code.", "Basic information", "Changed meanwhile.",
			"Data", "Default message.", "Direct key %d", "Done.", "Enter an e-mail address.", "Enter something.", "Field message.",
			"Label A", "No such thing.", "Not valid.", "Please correct the errors below.", "Saved.", "Title",
			"Use at most %s characters."}
		if got := keys.sorted(); !slices.Equal(got, want) {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	})
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		cookie, header string
		want           i18n.Lang
	}{
		{"", "", i18n.Catalan},
		{"", "ca", i18n.Catalan},
		{"", "es-ES,es;q=0.9", i18n.Spanish},
		{"", "en-GB", i18n.English},
		{"", "en-US,en;q=0.8", i18n.English},
		{"", "de", i18n.Catalan},
		{"", "fr, es;q=0.5", i18n.Spanish},
		{"", "not a language header;;;", i18n.Catalan},
		{"en", "es-ES,es;q=0.9", i18n.English},
		{"es", "", i18n.Spanish},
		{"ca", "en", i18n.Catalan},
		{"de", "es", i18n.Spanish},         // an invalid cookie is ignored
		{"EN", "", i18n.Catalan},           // codes are lower case
		{"xx-invalid", "en", i18n.English}, // an invalid cookie is ignored
	}
	for _, tt := range tests {
		if got := i18n.Negotiate(tt.cookie, tt.header); got != tt.want {
			t.Errorf("Negotiate(%q, %q) = %q, want %q", tt.cookie, tt.header, got, tt.want)
		}
	}
}

// TestT formats a translated message with an argument in each language.
func TestT(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	files := map[i18n.Lang]map[string]string{}
	for _, l := range translated {
		files[l] = readMessages(t, l)
	}
	// A key with one %s that both languages translate.
	var key string
	for _, k := range slices.Sorted(maps.Keys(files[i18n.Catalan])) {
		if slices.Equal(verbs(k), []string{"s"}) && files[i18n.Catalan][k] != "" && files[i18n.Spanish][k] != "" {
			key = k
			break
		}
	}
	if key == "" {
		t.Skip("no translated key takes one string argument")
	}
	t.Logf("key: %q", key)
	const arg = "anna@example.org"
	english := fmt.Sprintf(key, arg)
	for _, l := range i18n.Langs {
		want := english
		if l != i18n.English {
			want = fmt.Sprintf(files[l][key], arg)
		}
		got := cat.T(l, key, arg)
		if got != want {
			t.Errorf("T(%s, %q, %q) = %q, want %q", l, key, arg, got, want)
		}
		if !strings.Contains(got, arg) || strings.Contains(got, "%!") {
			t.Errorf("T(%s, %q, %q) = %q: the value is not formatted in", l, key, arg, got)
		}
		if l != i18n.English && got == english {
			t.Errorf("T(%s, %q) is the English text", l, key)
		}
	}
	// An unknown key is shown in English, formatted; an unknown language is Catalan.
	for _, l := range i18n.Langs {
		if got, want := cat.T(l, "Nothing translates this: %d", 7), "Nothing translates this: 7"; got != want {
			t.Errorf("T(%s, unknown key) = %q, want %q", l, got, want)
		}
	}
	if got, want := cat.T("de", key, arg), fmt.Sprintf(files[i18n.Catalan][key], arg); got != want {
		t.Errorf("T(de, %q) = %q, want the Catalan %q", key, got, want)
	}
}
