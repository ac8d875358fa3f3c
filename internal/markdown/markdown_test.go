package markdown

import (
	"html/template"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRender(t *testing.T) {
	const rel = ` rel="nofollow noopener"`
	tests := []struct {
		name, in string
		want     template.HTML
	}{
		{"paragraph", "Hello\nworld", "<p>Hello\nworld</p>\n"},
		{"emphasis", "*a* **b** ~~c~~ `d<e>`", "<p><em>a</em> <strong>b</strong> <del>c</del> <code>d&lt;e&gt;</code></p>\n"},
		{"heading has no id", "## Purpose {#x onclick=y}", "<h2>Purpose {#x onclick=y}</h2>\n"},
		{"list", "- a\n- b\n\n3. c", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<ol start=\"3\">\n<li>c</li>\n</ol>\n"},
		{"gfm table", "| Data | Source |\n|:--|--:|\n| age | <b>BRP</b> |",
			"<table>\n<thead>\n<tr>\n<th align=\"left\">Data</th>\n<th align=\"right\">Source</th>\n</tr>\n</thead>\n" +
				"<tbody>\n<tr>\n<td align=\"left\">age</td>\n<td align=\"right\">BRP</td>\n</tr>\n</tbody>\n</table>\n"},
		{"https link", `[site](https://example.org/a?b=1&c=2 "Info")`,
			`<p><a href="https://example.org/a?b=1&amp;c=2" title="Info"` + rel + ">site</a></p>\n"},
		{"title cannot fake attributes", `[x](/a "t onclick=y")`, "<p><a href=\"/a\" title=\"t onclick&#61;y\">x</a></p>\n"},
		{"mailto link", "[mail](mailto:algo@city.example)", "<p><a href=\"mailto:algo@city.example\">mail</a></p>\n"},
		{"relative links", "[a](/algorithms/7) [b](#risks) [c](./faq) [d](faq.html)",
			"<p><a href=\"/algorithms/7\">a</a> <a href=\"#risks\">b</a> <a href=\"./faq\">c</a> <a href=\"faq.html\">d</a></p>\n"},
		{"protocol relative is external", "[a](//example.org/x)", "<p><a href=\"//example.org/x\"" + rel + ">a</a></p>\n"},
		{"autolinks", "<https://example.org> www.example.org algo@city.example",
			"<p><a href=\"https://example.org\"" + rel + ">https://example.org</a> <a href=\"http://www.example.org\"" + rel +
				">www.example.org</a> <a href=\"mailto:algo@city.example\">algo@city.example</a></p>\n"},
		{"javascript", "[x](javascript:alert(1))", "<p>x</p>\n"},
		{"mixed case", "[x](JaVaScRiPt:alert(1))", "<p>x</p>\n"},
		{"hex entity", "[x](&#x6A;avascript:alert(1))", "<p>x</p>\n"},
		{"decimal entity", "[x](&#106;avascript:alert(1))", "<p>x</p>\n"},
		{"double entity", "[x](&amp;#106;avascript:alert(1))", "<p>x</p>\n"},
		{"named entity tab", "[x](java&Tab;script:alert(1))", "<p>x</p>\n"},
		{"leading spaces", "[x](  javascript:alert(1))", "<p>x</p>\n"},
		{"embedded tab", "[x](<java\tscript:alert(1)>)", "<p>x</p>\n"},
		{"percent encoded", "[x](%6Aavascript:alert(1)) [y](javascript%3Aalert(1))", "<p>x y</p>\n"},
		{"control char", "[x](\x01javascript:alert(1))", "<p>x</p>\n"},
		{"vbscript", "[x](vbscript:msgbox(1))", "<p>x</p>\n"},
		{"data", "[x](data:text/html;base64,PHNjcmlwdD4=)", "<p>x</p>\n"},
		{"file", "[x](file:///etc/passwd)", "<p>x</p>\n"},
		{"other scheme", "[x](ftp://example.org) ftp://example.org", "<p>x ftp://example.org</p>\n"},
		{"reference style", "[x][r]\n\n[r]: javascript:alert(1)", "<p>x</p>\n"},
		{"autolink javascript", "<javascript:alert(1)>", "<p>javascript:alert(1)</p>\n"},
		{"raw html block dropped", "<script>alert(1)</script>\n\n<iframe src=x></iframe>", ""},
		{"inline html dropped", "a <img src=x onerror=alert(1)> <b>b</b>", "<p>a  b</p>\n"},
		{"external image to alt", "![City *logo*](https://evil.example/x.png)", "<p>City <em>logo</em></p>\n"},
		{"data image to alt", "![x](data:image/png;base64,AAAA)", "<p>x</p>\n"},
		{"relative image kept", `![Flow a=b](/static/flow.png "Flow")`,
			"<p><img src=\"/static/flow.png\" alt=\"Flow a&#61;b\" title=\"Flow\"></p>\n"},
		{"image in bad link", "[![i](/i.png)](javascript:x)", "<p><img src=\"/i.png\" alt=\"i\"></p>\n"},
		{"code language sanitised", "```go\" onmouseover=x\nfmt.Println(\"<hi>\")\n```",
			"<pre><code class=\"language-go\">fmt.Println(&quot;&lt;hi&gt;&quot;)\n</code></pre>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Render(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Render(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			checkSafe(t, tt.in, string(got), blockTags)
		})
	}
}

func TestRenderInline(t *testing.T) {
	tests := []struct {
		in   string
		want template.HTML
	}{
		{"Used by *Social Services*", "Used by <em>Social Services</em>"},
		{"2024. A good year", "2024. A good year"},
		{"# not a heading\n- not a list", "# not a heading - not a list"},
		{"[x](javascript:alert(1)) <b>y</b>", "x y"},
		{"see https://example.org", `see <a href="https://example.org" rel="nofollow noopener">https://example.org</a>`},
	}
	for _, tt := range tests {
		got := RenderInline(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("RenderInline(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
		checkSafe(t, tt.in, string(got), inlineTags)
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"# Title\n\nSome *emphasis* and [a link](https://x.example).", "Title Some emphasis and a link."},
		{"| a | b |\n|---|---|\n| 1 | 2 |", "a b 1 2"},
		{"<script>alert(1)</script>\n\ntext &amp; \\*stars\\*", "text & *stars*"},
		{"- one\n- two\n\n```\ncode  <b>\n```", "one two code <b>"},
		{"![alt text](/x.png) <https://x.example>", "alt text https://x.example"},
		{"a\x00b\x07c", "abc"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, PlainText(tt.in)); diff != "" {
			t.Errorf("PlainText(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				_ = Render(benchDoc)
				_ = RenderInline("*x* [y](/z)")
				_ = PlainText(benchDoc)
			}
		})
	}
	wg.Wait()
}

func BenchmarkRender(b *testing.B) {
	b.SetBytes(int64(len(benchDoc)))
	for b.Loop() {
		_ = Render(benchDoc)
	}
}

var benchDoc = strings.Repeat(`# Risk model for benefit fraud investigations

The **Social Services department** uses this algorithm to decide which
applications for income support are checked *before* payment. It does not
make decisions on its own: a case worker always reviews the outcome.

## Purpose

- Prioritise manual checks where errors are most likely
- Reduce waiting times for applicants with complete files
- Keep the number of home visits ~~high~~ proportionate

## Data used

| Data | Source | Retention |
|:-----|:-------|----------:|
| Household composition | Personal Records Database (BRP) | 5 years |
| Previous applications | Case management system | 7 years |
| Income data | Tax authority, via [Suwinet](https://www.bkwi.nl/) | 5 years |

Nationality, ethnicity and postcode are **not** used. See the
[privacy statement](/privacy) and the [DPIA summary](./dpia.pdf "DPIA").

## Human oversight

1. The model produces a score between 0 and 100.
2. Scores above 70 are reviewed by a senior case worker.
3. The applicant is informed and can object via mailto:bezwaar@city.example or
   [the objection form](https://city.example/objection).

> Results are evaluated every six months by the internal audit office.
> The latest report is at <https://city.example/reports/2024-h1>.

`+"```text\nscore = 0.4*history + 0.3*completeness + 0.3*timeliness\n```\n\n", 4)
