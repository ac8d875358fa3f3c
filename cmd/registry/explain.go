package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/civictech/registry/internal/apperr"
)

// explain turns a user error into a readable line per field for the terminal.
func explain(err error) error {
	e, ok := apperr.As(err)
	if !ok {
		return err
	}
	if len(e.Fields) == 0 {
		return fmt.Errorf("%s", e.Message)
	}
	var lines []string
	for f, msg := range e.Fields {
		lines = append(lines, fmt.Sprintf("  %s: %s", f, msg))
	}
	sort.Strings(lines)
	return fmt.Errorf("%s\n%s", e.Message, strings.Join(lines, "\n"))
}
