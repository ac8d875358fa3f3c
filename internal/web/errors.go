package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/civictech/registry/internal/apperr"
)

// HandlerFunc is an HTTP handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h: a returned error is rendered by Error.
func (rd *Renderer) Handle(h HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			rd.Error(w, r, err)
		}
	}
}

var statuses = map[apperr.Code]int{
	apperr.Invalid:              http.StatusUnprocessableEntity,
	apperr.BadRequest:           http.StatusBadRequest,
	apperr.Unauthenticated:      http.StatusUnauthorized,
	apperr.Forbidden:            http.StatusForbidden,
	apperr.NotFound:             http.StatusNotFound,
	apperr.Conflict:             http.StatusConflict,
	apperr.PreconditionFailed:   http.StatusPreconditionFailed,
	apperr.TooLarge:             http.StatusRequestEntityTooLarge,
	apperr.PreconditionRequired: http.StatusPreconditionRequired,
	apperr.TooManyRequests:      http.StatusTooManyRequests,
	apperr.Internal:             http.StatusInternalServerError,
}

// Status returns the HTTP status for code.
func Status(code apperr.Code) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// IsAPI reports whether r should be answered in JSON.
func IsAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/")
}

// Error is the one place an error becomes a response. Errors that are not *apperr.Error are
// internal: logged with their detail, shown only as a generic message.
func (rd *Renderer) Error(w http.ResponseWriter, r *http.Request, err error) {
	e := classify(err)
	status := Status(e.Code)
	if e.Code == apperr.Internal {
		rd.log.ErrorContext(r.Context(), "internal error", slog.String("request_id", RequestIDFrom(r.Context())),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds()+0.999)))
	}
	if IsAPI(r) {
		rd.writeJSONError(w, r, status, e)
		return
	}
	if e.Code == apperr.Unauthenticated && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	page := Page{Title: rd.T(r, e.Message), Data: errorData{Status: status, Message: rd.T(r, e.Message)}}
	if rerr := rd.Render(w, r, status, "error", page); rerr != nil {
		rd.log.ErrorContext(r.Context(), "render error page", slog.Any("err", rerr))
		http.Error(w, http.StatusText(status), status)
	}
}

type errorData struct {
	Status  int
	Message string
}

func classify(err error) *apperr.Error {
	if e, ok := apperr.As(err); ok {
		if e.Message == "" {
			c := *e
			c.Message = defaultMessages[e.Code]
			return &c
		}
		return e
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return apperr.New(apperr.TooLarge, defaultMessages[apperr.TooLarge])
	}
	return apperr.New(apperr.Internal, defaultMessages[apperr.Internal])
}

var defaultMessages = map[apperr.Code]string{
	apperr.Invalid:              "Please correct the errors below.",
	apperr.BadRequest:           "The request could not be understood.",
	apperr.Unauthenticated:      "Please sign in.",
	apperr.Forbidden:            "You do not have permission to do that.",
	apperr.NotFound:             "Page not found.",
	apperr.Conflict:             "Someone else changed this in the meantime.",
	apperr.PreconditionFailed:   "The version you sent is out of date.",
	apperr.TooLarge:             "The request is too large.",
	apperr.PreconditionRequired: "Send If-Match with the version you are changing.",
	apperr.TooManyRequests:      "Too many attempts. Please wait and try again.",
	apperr.Internal:             "Something went wrong on our side. Please try again later.",
}

type jsonError struct {
	Error jsonErrorBody `json:"error"`
}

type jsonErrorBody struct {
	Code    apperr.Code       `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func (rd *Renderer) writeJSONError(w http.ResponseWriter, r *http.Request, status int, e *apperr.Error) {
	body := jsonErrorBody{Code: e.Code, Message: rd.T(r, e.Message)}
	if len(e.Fields) > 0 {
		body.Fields = map[string]string{}
		for f, msg := range e.Fields {
			body.Fields[f] = rd.T(r, msg, e.FieldArgs[f]...)
		}
	}
	WriteJSON(w, status, jsonError{Error: body})
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// DecodeJSON reads r's body into v, refusing unknown fields and trailing data.
func DecodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return &apperr.Error{Code: apperr.BadRequest, Message: "The request body is not valid JSON for this resource."}
	}
	if dec.More() {
		return &apperr.Error{Code: apperr.BadRequest, Message: "The request body is not valid JSON for this resource."}
	}
	return nil
}
