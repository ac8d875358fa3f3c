package publish

import (
	"fmt"
	"net/url"
	"os"
	"strings"
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
	sql, args := facetSQL(s), s.args
	if os.Getenv("SRCH_PAGE") != "" {
		sql, args = pageSQL(s, q)
	}
	for i := len(args); i >= 1; i-- {
		lit := fmt.Sprint(args[i-1])
		if str, ok := args[i-1].(string); ok {
			lit = "'" + strings.ReplaceAll(str, "'", "''") + "'"
		}
		sql = strings.ReplaceAll(sql, fmt.Sprintf("$%d", i), lit)
	}
	fmt.Println("--BEGIN")
	fmt.Println(sql + ";")
	fmt.Println("--END")
}
