package algorithms

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	"github.com/civictech/registry/internal/apperr"
)

// Two validators read the same struct: `validate` tags hold the rules every save must meet
// (a draft may be incomplete but never malformed); `submit` tags what a submission needs.
var (
	validatorsOnce         sync.Once
	saveRules, submitRules *validator.Validate
)

func validators() (*validator.Validate, *validator.Validate) {
	validatorsOnce.Do(func() {
		saveRules, submitRules = newValidator("validate"), newValidator("submit")
	})
	return saveRules, submitRules
}

var phonePattern = regexp.MustCompile(`^\+?[0-9 ()\-.]{6,20}$`)

func newValidator(tag string) *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.SetTagName(tag)
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(v.RegisterValidation("textmax", func(fl validator.FieldLevel) bool {
		t, _ := fl.Field().Interface().(Text)
		return t.longest() <= atoi(fl.Param())
	}))
	must(v.RegisterValidation("textmin", func(fl validator.FieldLevel) bool {
		t, _ := fl.Field().Interface().(Text)
		return utf8.RuneCountInString(strings.TrimSpace(t[originalLang(fl)])) >= atoi(fl.Param())
	}))
	must(v.RegisterValidation("filled", func(fl validator.FieldLevel) bool {
		switch x := fl.Field().Interface().(type) {
		case Text:
			return strings.TrimSpace(x[originalLang(fl)]) != ""
		case string:
			return strings.TrimSpace(x) != ""
		}
		return !fl.Field().IsZero()
	}))
	must(v.RegisterValidation("weburl", func(fl validator.FieldLevel) bool { return IsWebURL(fl.Field().String()) }))
	must(v.RegisterValidation("isodate", func(fl validator.FieldLevel) bool {
		_, err := time.Parse(time.DateOnly, fl.Field().String())
		return err == nil
	}))
	must(v.RegisterValidation("phone", func(fl validator.FieldLevel) bool { return phonePattern.MatchString(fl.Field().String()) }))
	must(v.RegisterValidation("domain", func(fl validator.FieldLevel) bool { return slices.Contains(Domains, fl.Field().String()) }))
	must(v.RegisterValidation("specialcategory", func(fl validator.FieldLevel) bool {
		return slices.Contains(SpecialCategories, fl.Field().String())
	}))
	return v
}

func atoi(s string) int {
	n := 0
	fmt.Sscanf(s, "%d", &n)
	return n
}

// originalLang is the language a fact sheet was written in: validators find it on the
// sheet being validated.
func originalLang(fl validator.FieldLevel) string {
	if fs, ok := fl.Top().Interface().(*FactSheet); ok && fs.Lang != "" {
		return fs.Lang
	}
	return "ca"
}

// IsWebURL reports whether s is an absolute http(s) URL with a host: other schemes
// (javascript:, data:, file:…) are refused everywhere a URL is accepted.
func IsWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && !strings.ContainsAny(s, " \t\r\n<>\"")
}

// messages maps a failed rule to its message key; %s takes the rule's parameter.
var messages = map[string]string{
	"filled":          "Fill in this field in the original language.",
	"required":        "Fill in this field.",
	"textmax":         "Use at most %s characters.",
	"textmin":         "Write at least %s characters in the original language.",
	"max":             "Use at most %s characters.",
	"email":           "Enter a valid e-mail address, like name@example.org.",
	"weburl":          "Enter a web address that starts with https:// or http://.",
	"isodate":         "Enter a date as YYYY-MM-DD.",
	"phone":           "Enter a valid phone number.",
	"oneof":           "Choose one of the options.",
	"domain":          "Choose one of the options.",
	"specialcategory": "Choose one of the options.",
}

// maxItems is the message when a list has too many entries; maxItemLength when one of them
// is too long.
const (
	maxItems      = "Add at most %s items."                     // i18n
	maxItemLength = "Each item may have at most %s characters." // i18n
)

// fieldPath turns validator's namespace ("FactSheet.data_sources[0].name") into the form's
// field name ("data_sources.0.name").
func fieldPath(ns string) string {
	_, rest, _ := strings.Cut(ns, ".")
	return strings.NewReplacer("[", ".", "]", "").Replace(rest)
}

func toError(err error) error {
	verrs, ok := err.(validator.ValidationErrors)
	if !ok {
		return err
	}
	e := &apperr.Error{Code: apperr.Invalid, Message: "Please correct the errors below.",
		Fields: map[string]string{}, FieldArgs: map[string][]any{}}
	for _, fe := range verrs {
		path := fieldPath(fe.Namespace())
		if fe.Kind() == reflect.String && strings.HasSuffix(fe.Namespace(), "]") {
			// An item of a list of strings (a keyword, a special category): the form has one
			// field for the whole list, so the message goes there.
			path = path[:strings.LastIndexByte(path, '.')]
		}
		if _, seen := e.Fields[path]; seen {
			continue
		}
		msg, ok := messages[fe.Tag()]
		if !ok {
			msg = "This value is not valid."
		}
		if fe.Tag() == "filled" && fe.Type() != textType {
			msg = messages["required"]
		}
		if fe.Tag() == "max" && fe.Kind() == reflect.Slice {
			msg = maxItems
		}
		if fe.Tag() == "max" && fe.Kind() == reflect.String && strings.HasSuffix(fe.Namespace(), "]") {
			msg = maxItemLength
		}
		e.Fields[path] = msg
		if strings.Contains(msg, "%s") {
			e.FieldArgs[path] = []any{fe.Param()}
		}
	}
	return e
}

// Validate checks the rules every save must meet. It returns an Invalid *apperr.Error whose
// Fields name each bad field by its form path.
func (fs *FactSheet) Validate() error {
	save, _ := validators()
	if err := save.Struct(fs); err != nil {
		return toError(err)
	}
	return nil
}

// Missing lists what a submission still needs, in field order: each required field in the
// original language, and the description's minimum length.
func (fs *FactSheet) Missing() []Problem {
	_, submit := validators()
	err := submit.Struct(fs)
	if err == nil {
		return nil
	}
	e, ok := toError(err).(*apperr.Error)
	if !ok {
		return []Problem{{Message: err.Error()}}
	}
	return problems(e.Fields, e.FieldArgs)
}
