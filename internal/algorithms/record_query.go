package algorithms

import (
	"strconv"
	"strings"
)

// The filters of EachOptions, as SQL. Each filter adds one condition to a where list and
// its value to the arguments; no value is ever pasted into the statement.

// latestPublished is true for the newest published revision of its entry.
const latestPublished = `r.number = (SELECT max(p.number) FROM revisions p WHERE p.algorithm_id = a.id AND p.state = 'published')`

// where returns the conditions selecting the published revisions opts asks for, and their
// arguments. The zero options select the latest published revision of every entry that is
// not unpublished.
func (o EachOptions) where() (string, []any) {
	where := []string{"a.unpublished_at IS NULL"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !o.AllVersions {
		where = append(where, latestPublished)
	}
	if o.AlgorithmID != "" {
		where = append(where, "a.id::text = "+arg(o.AlgorithmID))
	}
	if o.Revision > 0 {
		where = append(where, "r.number = "+arg(o.Revision))
	}
	if o.AfterSlug != "" {
		where = append(where, "a.slug > "+arg(o.AfterSlug))
	}
	if o.AlgorithmIDs != nil {
		where = append(where, "a.id = ANY("+arg(o.AlgorithmIDs)+"::uuid[])")
	}
	if d := strings.TrimSpace(o.Department); d != "" {
		where = append(where, anyTextLike("department", arg("%"+escapeLike(d)+"%")))
	}
	if o.Domain != "" {
		where = append(where, "r.fact_sheet->>'domain' = "+arg(o.Domain))
	}
	if o.Risk != "" {
		where = append(where, "r.risk_category = "+arg(o.Risk))
	}
	if o.Status != "" {
		where = append(where, "r.fact_sheet->>'status' = "+arg(o.Status))
	}
	if o.Type != "" {
		where = append(where, "r.fact_sheet->>'type' = "+arg(o.Type))
	}
	return strings.Join(where, "\n\t\t  AND "), args
}

// limit returns the LIMIT clause for o (none when o.Limit is zero), adding its argument.
func (o EachOptions) limit(args []any) (string, []any) {
	if o.Limit <= 0 {
		return "", args
	}
	args = append(args, o.Limit)
	return " LIMIT $" + strconv.Itoa(len(args)), args
}

// anyTextLike is true when any language of the fact sheet's text field matches the ILIKE
// pattern in parameter p. A field stored as JSON null (an empty language map) matches
// nothing rather than failing the query.
func anyTextLike(field, p string) string {
	v := "r.fact_sheet->'" + field + "'"
	return "EXISTS (SELECT FROM jsonb_each_text(CASE jsonb_typeof(" + v + ") WHEN 'object' THEN " + v +
		" ELSE '{}' END) t WHERE t.value ILIKE " + p + ")"
}

// escapeLike makes s match itself in a LIKE pattern (the default escape character is \).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
