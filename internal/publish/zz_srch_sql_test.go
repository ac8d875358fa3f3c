package publish

import (
	"fmt"
	"net/url"
	"os"
	"testing"

	"github.com/civictech/registry/internal/i18n"
)

func TestZZPrintSQL(t *testing.T) {
	if os.Getenv("SRCH_SQL") == "" {
		t.Skip()
	}
	v, _ := url.ParseQuery(os.Getenv("SRCH_SQL"))
	q := ParseQuery(v, i18n.Lang(os.Getenv("SRCH_LANG")))
	s := newSearch(q)
	if os.Getenv("SRCH_PAGE") != "" {
		sql, args := pageSQL(s, q)
		fmt.Println(sql + ";")
		fmt.Printf("--ARGS %q\n", args)
		return
	}
	fmt.Println(facetSQL(s) + ";")
	fmt.Printf("--ARGS %q\n", s.args)
}
