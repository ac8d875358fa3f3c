package diff

import (
	"fmt"
	"html/template"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// reconstruct joins the ops back into the old and the new text.
func reconstruct(ops []Op) (a, b string) {
	var sa, sb strings.Builder
	for _, op := range ops {
		if op.Kind != Insert {
			sa.WriteString(op.Text)
		}
		if op.Kind != Delete {
			sb.WriteString(op.Text)
		}
	}
	return sa.String(), sb.String()
}

// checkOps checks the invariants of any diff: it gives back both texts, has no empty op,
// never two adjacent ops of the same kind, and every change is its deletion then its
// insertion.
func checkOps(t *testing.T, a, b string, ops []Op) {
	t.Helper()
	ga, gb := reconstruct(ops)
	if ga != a || gb != b {
		t.Fatalf("ops do not give back the texts:\na   = %q\ngot = %q\nb   = %q\ngot = %q\nops = %v", a, ga, b, gb, ops)
	}
	for i, op := range ops {
		if op.Text == "" {
			t.Fatalf("op %d is empty: %v", i, ops)
		}
		if i > 0 && ops[i-1].Kind == op.Kind {
			t.Fatalf("ops %d and %d have the same kind: %v", i-1, i, ops)
		}
		if i > 0 && ops[i-1].Kind == Insert && op.Kind == Delete {
			t.Fatalf("insertion before deletion at %d: %v", i, ops)
		}
	}
}

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Hola, món!", []string{"Hola", ",", " ", "món", "!"}},
		{"col·lectiu il·lusió", []string{"col·lectiu", " ", "il·lusió"}},
		{"l'àrea d'Ecologia", []string{"l", "'", "àrea", " ", "d", "'", "Ecologia"}},
		{"punt· final ·x", []string{"punt", "·", " ", "final", " ", "·", "x"}},
		{"año  2024\n\ndatos", []string{"año", "  ", "2024", "\n\n", "datos"}},
		{"cafe\u0301 <b>", []string{"cafe\u0301", " ", "<", "b", ">"}},
		{"\xffab\xfe", []string{"\xff", "ab", "\xfe"}},
		{"Ελλάδα·σ", []string{"Ελλάδα·σ"}},
	}
	for _, tt := range tests {
		q := split(tt.in, nextWord)
		var got []string
		for i := range q.n() {
			got = append(got, q.tok(i))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("tokens of %q (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want []Op
	}{
		{"both empty", "", "", nil},
		{"same", "Igual.", "Igual.", []Op{{Equal, "Igual."}}},
		{"all inserted", "", "Nou text", []Op{{Insert, "Nou text"}}},
		{"all deleted", "Text vell", "", []Op{{Delete, "Text vell"}}},
		{
			"one word changed", "Detecta la pobresa energètica a les llars.", "Detecta la pobresa hídrica a les llars.",
			[]Op{{Equal, "Detecta la pobresa "}, {Delete, "energètica"}, {Insert, "hídrica"}, {Equal, " a les llars."}},
		},
		{
			"word inserted", "El model prioritza inspeccions.", "El model prioritza les inspeccions.",
			[]Op{{Equal, "El model prioritza "}, {Insert, "les "}, {Equal, "inspeccions."}},
		},
		{
			"word deleted", "Se revisan todas las solicitudes.", "Se revisan las solicitudes.",
			[]Op{{Equal, "Se revisan "}, {Delete, "todas "}, {Equal, "las solicitudes."}},
		},
		{
			"accents", "però no és així", "perquè no es així",
			[]Op{{Delete, "però"}, {Insert, "perquè"}, {Equal, " no "}, {Delete, "és"}, {Insert, "es"}, {Equal, " així"}},
		},
		{
			"middle dot", "el col·lectiu afectat", "la col·lectivitat afectada",
			[]Op{{Delete, "el col·lectiu afectat"}, {Insert, "la col·lectivitat afectada"}},
		},
		{
			"middle dot kept whole", "Una il·lusió.", "Una il·lustració.",
			[]Op{{Equal, "Una "}, {Delete, "il·lusió"}, {Insert, "il·lustració"}, {Equal, "."}},
		},
		{
			"space between changes taken in", "the quick brown fox", "the slow red fox",
			[]Op{{Equal, "the "}, {Delete, "quick brown"}, {Insert, "slow red"}, {Equal, " fox"}},
		},
		{
			"line break between changes kept", "uno\ndos", "one\ntwo",
			[]Op{{Delete, "uno"}, {Insert, "one"}, {Equal, "\n"}, {Delete, "dos"}, {Insert, "two"}},
		},
		{
			"punctuation", "Dades obertes, anonimitzades.", "Dades obertes; anonimitzades!",
			[]Op{{Equal, "Dades obertes"}, {Delete, ","}, {Insert, ";"}, {Equal, " anonimitzades"}, {Delete, "."}, {Insert, "!"}},
		},
		{
			"whitespace only", "a  b", "a b",
			[]Op{{Equal, "a"}, {Delete, "  "}, {Insert, " "}, {Equal, "b"}},
		},
		{
			"paragraph added", "Primer paràgraf.", "Primer paràgraf.\n\nSegon paràgraf.",
			[]Op{{Equal, "Primer paràgraf."}, {Insert, "\n\nSegon paràgraf."}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Words(tt.a, tt.b)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Words(%q, %q) (-want +got):\n%s", tt.a, tt.b, diff)
			}
			checkOps(t, tt.a, tt.b, got)
		})
	}
}

func TestWordsReconstructs(t *testing.T) {
	for _, c := range [][2]string{
		{"a b c d e f", "f e d c b a"},
		{"x", "y"},
		{"a\r\nb", "a\nb"},
		{"\xff\xfe", "\xfe\xff"},
		{"col·l", "col.l"},
		{"· · ·", "·· ·"},
		{"abc abc abc", "abc"},
		{"  ", " "},
		{"<script>alert(1)</script>", "<b>bold</b>"},
	} {
		checkOps(t, c[0], c[1], Words(c[0], c[1]))
		checkOps(t, c[1], c[0], Words(c[1], c[0]))
	}
	// Random edits of random texts, small enough to be diffed word by word.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		a := randomText(rng, 1+rng.IntN(80))
		b := mutate(rng, a, rng.IntN(10))
		ops := Words(a, b)
		checkOps(t, a, b, ops)
	}
}

// TestWordsMinimal checks that the word diff is a shortest one: its equal tokens are as
// many as the longest common subsequence of the tokens finds.
func TestWordsMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		a := randomText(rng, 1+rng.IntN(30))
		b := mutate(rng, a, rng.IntN(8))
		as, bs := split(a, nextWord), split(b, nextWord)
		budget := maxWork
		hunks, ok := diffSeqs(as, bs, &budget)
		if !ok {
			t.Fatal("small diff ran out of budget")
		}
		equal := 0
		for _, h := range hunks {
			if h.kind == Equal {
				equal += h.a1 - h.a0
			}
		}
		if want := lcs(as, bs); equal != want {
			t.Fatalf("%q → %q: %d equal tokens, the longest common subsequence has %d", a, b, equal, want)
		}
	}
}

func lcs(a, b seq) int {
	prev, cur := make([]int, b.n()+1), make([]int, b.n()+1)
	for i := 1; i <= a.n(); i++ {
		for j := 1; j <= b.n(); j++ {
			switch {
			case a.tok(i-1) == b.tok(j-1):
				cur[j] = prev[j-1] + 1
			default:
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[b.n()]
}

var vocabulary = strings.Fields(`el la de les dels model dades personals col·lectiu il·lusió però perquè així
	àrea pobresa energètica llars año información algoritmo decisión revisión the council data
	risk , . ; : ( ) — \n l'àrea d'Ecologia 2024 10,5`)

func randomText(rng *rand.Rand, words int) string {
	var sb strings.Builder
	for i := range words {
		if i > 0 {
			sb.WriteString([]string{" ", " ", " ", "\n", "  ", "\n\n"}[rng.IntN(6)])
		}
		sb.WriteString(strings.ReplaceAll(vocabulary[rng.IntN(len(vocabulary))], `\n`, "\n"))
	}
	return sb.String()
}

// mutate changes, inserts or deletes n words of text.
func mutate(rng *rand.Rand, text string, n int) string {
	words := strings.Split(text, " ")
	for range n {
		i := rng.IntN(len(words) + 1)
		switch rng.IntN(3) {
		case 0:
			words = append(words[:i], append([]string{vocabulary[rng.IntN(len(vocabulary))]}, words[i:]...)...)
		case 1:
			if i < len(words) {
				words = append(words[:i], words[i+1:]...)
			}
		default:
			if i < len(words) {
				words[i] = vocabulary[rng.IntN(len(vocabulary))]
			}
		}
	}
	return strings.Join(words, " ")
}

func FuzzWordsReconstructs(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""},
		{"Detecta la pobresa energètica.", "Detecta la pobresa hídrica."},
		{"el col·lectiu", "la col·lectivitat"},
		{"año\n\ndatos", "años\ndatos"},
		{"<script>x</script>", "<ins>"},
		{"\xff\x80", "\xc3"},
		{"a b c", "c b a"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkOps(t, a, b, Words(a, b))
	})
}

// longText returns about n characters of Catalan-looking prose in paragraphs.
func longText(rng *rand.Rand, n int) string {
	var sb strings.Builder
	for i := 0; sb.Len() < n; i++ {
		if i > 0 {
			if i%60 == 0 {
				sb.WriteString(".\n\n")
			} else {
				sb.WriteString(" ")
			}
		}
		sb.WriteString(vocabulary[rng.IntN(len(vocabulary)-6)])
	}
	return sb.String()
}

// changeWords replaces n words of text, spread over it, with "CANVI".
func changeWords(text string, n int) string {
	words := strings.Split(text, " ")
	for i := 1; i <= n; i++ {
		words[i*len(words)/(n+1)] = "CANVI"
	}
	return strings.Join(words, " ")
}

func TestWordsLongTextStaysWordLevel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a := longText(rng, 10_000)
	b := changeWords(a, 5)
	ops := Words(a, b)
	checkOps(t, a, b, ops)
	var inserted []string
	for _, op := range ops {
		if op.Kind == Insert {
			inserted = append(inserted, op.Text)
		}
	}
	if diff := cmp.Diff([]string{"CANVI", "CANVI", "CANVI", "CANVI", "CANVI"}, inserted); diff != "" {
		t.Errorf("insertions (-want +got):\n%s", diff)
	}
}

func TestWordsFallsBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	// Two unrelated long texts sharing a start and an end: too costly word by word.
	a := "Inici comú.\n" + longText(rng, 300_000) + "\nFinal comú."
	b := "Inici comú.\n" + longText(rng, 300_000) + "\nFinal comú."
	if budget := maxWork; func() bool { _, ok := seqOps(split(a, nextWord), split(b, nextWord), &budget); return ok }() {
		t.Fatal("the word diff of two unrelated 300 kB texts fitted the budget; the test needs bigger texts")
	}
	start := time.Now()
	ops := Words(a, b)
	elapsed := time.Since(start)
	checkOps(t, a, b, ops)
	if ops[0] != (Op{Equal, "Inici comú.\n"}) || ops[len(ops)-1] != (Op{Equal, "\nFinal comú."}) {
		t.Errorf("common start or end lost: first %q, last %q", ops[0], ops[len(ops)-1])
	}
	t.Logf("two unrelated 300 kB texts: %d ops in %v", len(ops), elapsed)

	// One line of text with a change at either end, unrelated in between: whole replacement
	// of the middle, common start and end kept.
	c := "Inici " + strings.ReplaceAll(longText(rng, 300_000), "\n", " ") + " final"
	d := "Començament " + strings.ReplaceAll(longText(rng, 300_000), "\n", " ") + " fi"
	ops = Words(c, d)
	checkOps(t, c, d, ops)

	// A long text with a few changed lines: lines, then words within them.
	e := longText(rng, 300_000)
	g := strings.Replace(e, "model", "MODEL", 3)
	g = strings.Replace(g, ".\n\n", ".\n\nNou paràgraf.\n\n", 1)
	ops = Words(e, g)
	checkOps(t, e, g, ops)
}

func TestHTML(t *testing.T) {
	tests := []struct {
		name string
		ops  []Op
		want template.HTML
	}{
		{"nothing", nil, ""},
		{
			"kinds", []Op{{Equal, "Detecta la "}, {Delete, "pobresa"}, {Insert, "vulnerabilitat"}, {Equal, " energètica"}},
			"Detecta la <del>pobresa</del><ins>vulnerabilitat</ins> energètica",
		},
		{
			"escaped", []Op{{Equal, "a & b "}, {Delete, `<script>alert("x")</script>`}, {Insert, "<img src=x onerror='y'>"}},
			`a &amp; b <del>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</del><ins>&lt;img src=x onerror=&#39;y&#39;&gt;</ins>`,
		},
		{"line breaks", []Op{{Equal, "u\nd"}, {Insert, "\r\n\r\nt"}}, "u<br>d<ins><br><br>t</ins>"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, HTML(tt.ops)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestHTMLOfScriptInEitherInput(t *testing.T) {
	for _, c := range [][2]string{
		{"Text <script>alert(1)</script> final", "Text final"},
		{"Text final", "Text <script>alert(1)</script> final"},
		{"<script>", "</script>"},
	} {
		got := string(HTML(Words(c[0], c[1])))
		if strings.Contains(got, "<script") || strings.Contains(got, "</script") {
			t.Errorf("HTML(Words(%q, %q)) = %s, not escaped", c[0], c[1], got)
		}
		if !strings.Contains(got, "&lt;") {
			t.Errorf("HTML(Words(%q, %q)) = %s, lost the tag", c[0], c[1], got)
		}
	}
}

func TestKindString(t *testing.T) {
	got := fmt.Sprint(Equal, Insert, Delete, Kind(9))
	if got != "= + - ?" {
		t.Errorf("kinds print as %q", got)
	}
}

func BenchmarkWords10k(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := longText(rng, 10_000)
	y := changeWords(x, 5)
	if !utf8.ValidString(x) || len(x) < 10_000 {
		b.Fatal("bad text")
	}
	b.ReportAllocs()
	for b.Loop() {
		Words(x, y)
	}
}

func BenchmarkWords10kRewritten(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := longText(rng, 10_000), longText(rng, 10_000)
	b.ReportAllocs()
	for b.Loop() {
		Words(x, y)
	}
}
