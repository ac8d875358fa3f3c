// Package diff compares texts word by word and fact sheets field by field, for the review
// page (what changed since the last round) and the public history of an entry.
package diff

import (
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind says what an Op does.
type Kind int

// The kinds of Op.
const (
	Equal  Kind = iota // text in both
	Insert             // text only in the new version
	Delete             // text only in the old version
)

// String returns "=", "+" or "-".
func (k Kind) String() string {
	switch k {
	case Equal:
		return "="
	case Insert:
		return "+"
	case Delete:
		return "-"
	}
	return "?"
}

// Op is one piece of a diff. Joining the Text of the Equal and Delete ops in order gives
// the old text exactly; joining the Equal and Insert ops gives the new text.
type Op struct {
	Kind Kind
	Text string
}

// maxWork bounds the work of one call of Words, in steps of the Myers algorithm (a diagonal
// visited or a token matched): about a million, a few milliseconds. Half goes to the word
// diff, a quarter to the line diff of the fallback and a quarter to refining its changed
// blocks. Myers costs about (N+M)·D for N and M tokens and D changes, so two 10,000-character
// texts (some 3,300 tokens each) differing in a few hundred scattered words are still diffed
// word by word, where a table of their token product (11 million cells) would be past the
// bound; texts that differ throughout run out of the budget instead, and fall back to lines.
const maxWork = 1 << 20

// Words diffs a and b word by word. The texts are cut into words (letters, digits and
// combining marks, with the Catalan middle dot of "l·l" inside a word), runs of white space,
// and single other characters. Adjacent ops of the same kind are merged, every change is
// shown as its deletion before its insertion, and a space between two changes is taken into
// them, so "quick brown" → "slow red" is one deletion and one insertion. Words(a, a) is one
// Equal op; Words("", "") is nil.
//
// Long texts that differ throughout, where the word diff would run out of its budget, fall
// back to a line diff whose changed blocks are refined word by word while a second budget
// lasts; past that, what lies between their common start and end is replaced whole. So
// Words costs a few milliseconds at most beyond reading the texts.
func Words(a, b string) []Op {
	if a == b {
		if a == "" {
			return nil
		}
		return []Op{{Equal, a}}
	}
	as, bs := split(a, nextWord), split(b, nextWord)
	pre, suf := common(as, bs)
	ma, mb := as.slice(pre, as.n()-suf), bs.slice(pre, bs.n()-suf)
	ops := []Op{{Equal, a[:as.off[pre]]}}
	budget := maxWork / 2
	if mid, ok := seqOps(ma, mb, &budget); ok {
		ops = append(ops, mid...)
	} else {
		ops = append(ops, lineOps(ma.text(), mb.text())...)
	}
	ops = append(ops, Op{Equal, a[as.off[as.n()-suf]:]})
	return tidy(ops)
}

// lineOps diffs a and b line by line, refining each changed block word by word while a
// shared budget lasts. When even the lines cost too much, it replaces a by b.
func lineOps(a, b string) []Op {
	la, lb := split(a, nextLine), split(b, nextLine)
	budget := maxWork / 4
	hunks, ok := diffSeqs(la, lb, &budget)
	if !ok {
		return []Op{{Delete, a}, {Insert, b}}
	}
	refine := maxWork / 4
	var ops []Op
	for _, h := range hunks {
		x := la.slice(h.a0, h.a1).text()
		if h.kind == Equal {
			ops = append(ops, Op{Equal, x})
			continue
		}
		y := lb.slice(h.b0, h.b1).text()
		if len(hunks) > 1 { // one block is all of a and b, which the word diff gave up on
			if sub, ok := seqOps(split(x, nextWord), split(y, nextWord), &refine); ok {
				ops = append(ops, sub...)
				continue
			}
		}
		ops = append(ops, Op{Delete, x}, Op{Insert, y})
	}
	return ops
}

// seqOps diffs two token sequences into ops, or reports false when that costs more than
// budget.
func seqOps(a, b seq, budget *int) ([]Op, bool) {
	hunks, ok := diffSeqs(a, b, budget)
	if !ok {
		return nil, false
	}
	ops := make([]Op, 0, 2*len(hunks))
	for _, h := range hunks {
		x := a.slice(h.a0, h.a1).text()
		if h.kind == Equal {
			ops = append(ops, Op{Equal, x})
			continue
		}
		ops = append(ops, Op{Delete, x}, Op{Insert, b.slice(h.b0, h.b1).text()})
	}
	return ops, true
}

// tidy drops empty ops, takes a space (not a line break) between two changes into them,
// orders every run of changes as one deletion then one insertion, and merges equal ops.
func tidy(ops []Op) []Op {
	var in []Op
	for _, op := range ops {
		if op.Text != "" {
			in = append(in, op)
		}
	}
	changed := func(i int) bool { return i >= 0 && i < len(in) && in[i].Kind != Equal }
	var out []Op
	var del, ins strings.Builder
	flush := func() {
		if del.Len() > 0 {
			out = append(out, Op{Delete, del.String()})
		}
		if ins.Len() > 0 {
			out = append(out, Op{Insert, ins.String()})
		}
		del.Reset()
		ins.Reset()
	}
	for i, op := range in {
		switch {
		case op.Kind == Delete:
			del.WriteString(op.Text)
		case op.Kind == Insert:
			ins.WriteString(op.Text)
		case changed(i-1) && changed(i+1) && isBlank(op.Text):
			del.WriteString(op.Text)
			ins.WriteString(op.Text)
		default:
			flush()
			if n := len(out); n > 0 && out[n-1].Kind == Equal {
				out[n-1].Text += op.Text
			} else {
				out = append(out, op)
			}
		}
	}
	flush()
	return out
}

// isBlank reports whether s is white space within one line.
func isBlank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) || r == '\n' || r == '\r' {
			return false
		}
	}
	return true
}

// HTML renders ops as HTML: equal text as it is, deletions in <del> and insertions in <ins>,
// all of it escaped, with line breaks as <br>.
func HTML(ops []Op) template.HTML {
	var sb strings.Builder
	for _, op := range ops {
		text := template.HTMLEscapeString(op.Text)
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.ReplaceAll(text, "\n", "<br>")
		switch op.Kind {
		case Delete:
			sb.WriteString("<del>" + text + "</del>")
		case Insert:
			sb.WriteString("<ins>" + text + "</ins>")
		default:
			sb.WriteString(text)
		}
	}
	return template.HTML(sb.String()) //nolint:gosec // every piece of text is escaped above
}

// seq is a text cut into tokens: token i is s[off[i]:off[i+1]].
type seq struct {
	s   string
	off []int
}

func (q seq) n() int           { return len(q.off) - 1 }
func (q seq) tok(i int) string { return q.s[q.off[i]:q.off[i+1]] }

// slice returns tokens i to j-1.
func (q seq) slice(i, j int) seq { return seq{q.s, q.off[i : j+1]} }

// text returns the text of the tokens.
func (q seq) text() string { return q.s[q.off[0]:q.off[len(q.off)-1]] }

// split cuts s into tokens with next, which returns the length of the token at the start of
// its argument (at least 1).
func split(s string, next func(string) int) seq {
	off := make([]int, 1, len(s)/3+2)
	for i := 0; i < len(s); {
		i += next(s[i:])
		off = append(off, i)
	}
	return seq{s, off}
}

// nextLine returns the length of the first line of s, its line break included.
func nextLine(s string) int {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return i + 1
	}
	return len(s)
}

// nextWord returns the length of the first token of s: a word, a run of white space, or one
// other character (or one byte of invalid UTF-8).
func nextWord(s string) int {
	r, n := rune(s[0]), 1
	if r >= utf8.RuneSelf {
		r, n = utf8.DecodeRuneInString(s)
	}
	switch {
	case isWordRune(r):
		for n < len(s) {
			if c := s[n]; c < utf8.RuneSelf {
				if asciiClass[c] != word {
					break
				}
				n++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[n:])
			if isWordRune(r) {
				n += size
				continue
			}
			// A middle dot between letters belongs to the word: col·lectiu, il·lusió.
			if isJoiner(r) && n+size < len(s) {
				if r2, _ := utf8.DecodeRuneInString(s[n+size:]); unicode.IsLetter(r2) {
					n += size
					continue
				}
			}
			break
		}
	case unicode.IsSpace(r):
		for n < len(s) {
			if c := s[n]; c < utf8.RuneSelf {
				if asciiClass[c] != space {
					break
				}
				n++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[n:])
			if !unicode.IsSpace(r) {
				break
			}
			n += size
		}
	}
	return n
}

const (
	other = iota
	word
	space
)

// asciiClass classes the ASCII characters as isWordRune and unicode.IsSpace do.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range rune(utf8.RuneSelf) {
		switch {
		case isWordRune(c):
			t[c] = word
		case unicode.IsSpace(c):
			t[c] = space
		}
	}
	return t
}()

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// isJoiner reports the middle dot (and its Greek canonical equivalent, which NFC turns into
// it) of the Catalan geminated l.
func isJoiner(r rune) bool { return r == '\u00b7' || r == '\u0387' }

// common returns the number of tokens a and b share at their start and, after that, at
// their end.
func common(a, b seq) (pre, suf int) {
	n, m := a.n(), b.n()
	for pre < n && pre < m && a.tok(pre) == b.tok(pre) {
		pre++
	}
	for suf < n-pre && suf < m-pre && a.tok(n-1-suf) == b.tok(m-1-suf) {
		suf++
	}
	return pre, suf
}

// hunk is a run of tokens a[a0:a1] and b[b0:b1]: equal (the same tokens) or changed.
type hunk struct {
	kind           Kind // Equal or Delete (for a change: a's tokens deleted, b's inserted)
	a0, a1, b0, b1 int
}

// diffSeqs diffs two token sequences into alternating equal and changed hunks, or reports
// false when that costs more than budget.
func diffSeqs(a, b seq, budget *int) ([]hunk, bool) {
	ids := make(map[string]int32, a.n()/2+b.n()/2+1)
	intern := func(q seq) []int32 {
		out := make([]int32, q.n())
		for i := range out {
			t := q.tok(i)
			id, ok := ids[t]
			if !ok {
				id = int32(len(ids))
				ids[t] = id
			}
			out[i] = id
		}
		return out
	}
	m := myers{a: intern(a), b: intern(b), budget: budget}
	m.del = make([]bool, len(m.a))
	m.ins = make([]bool, len(m.b))
	if !m.compare(0, len(m.a), 0, len(m.b)) {
		return nil, false
	}
	var hunks []hunk
	i, j := 0, 0
	for i < len(m.a) || j < len(m.b) {
		h := hunk{kind: Equal, a0: i, b0: j}
		if (i < len(m.a) && m.del[i]) || (j < len(m.b) && m.ins[j]) {
			h.kind = Delete
			for i < len(m.a) && m.del[i] {
				i++
			}
			for j < len(m.b) && m.ins[j] {
				j++
			}
		} else {
			for i < len(m.a) && j < len(m.b) && !m.del[i] && !m.ins[j] {
				i++
				j++
			}
		}
		h.a1, h.b1 = i, j
		hunks = append(hunks, h)
	}
	return hunks, true
}

// myers finds a shortest edit script between a and b with Myers' linear-space algorithm
// (E. Myers, "An O(ND) difference algorithm and its variations", 1986): it marks the
// tokens of a that are deleted and those of b that are inserted.
type myers struct {
	a, b     []int32
	del, ins []bool
	budget   *int
	vf, vb   []int
}

// compare marks the edit script of a[a0:a1] and b[b0:b1], or reports false when the budget
// runs out.
func (m *myers) compare(a0, a1, b0, b1 int) bool {
	n := a1 - a0
	for a0 < a1 && b0 < b1 && m.a[a0] == m.b[b0] {
		a0++
		b0++
	}
	for a0 < a1 && b0 < b1 && m.a[a1-1] == m.b[b1-1] {
		a1--
		b1--
	}
	*m.budget -= n - (a1 - a0)
	if *m.budget < 0 {
		return false
	}
	if a0 == a1 || b0 == b1 {
		m.change(a0, a1, b0, b1)
		return true
	}
	x, y, found, ok := m.bisect(a0, a1, b0, b1)
	switch {
	case !ok:
		return false
	case !found || (x == a0 && y == b0) || (x == a1 && y == b1):
		// Nothing in common (or, which cannot happen, no progress): replace a by b.
		m.change(a0, a1, b0, b1)
		return true
	}
	return m.compare(a0, x, b0, y) && m.compare(x, a1, y, b1)
}

// change marks a[a0:a1] deleted and b[b0:b1] inserted.
func (m *myers) change(a0, a1, b0, b1 int) {
	*m.budget -= (a1 - a0) + (b1 - b0)
	for i := a0; i < a1; i++ {
		m.del[i] = true
	}
	for j := b0; j < b1; j++ {
		m.ins[j] = true
	}
}

// bisect finds where the forward and the backward search for a shortest path through the
// edit graph of a[a0:a1] and b[b0:b1] meet, and returns that point (x, y) in absolute
// positions. The two halves on either side of it are strictly smaller problems. It follows
// the bisection of Neil Fraser's diff-match-patch, which keeps the searches inside the graph.
func (m *myers) bisect(a0, a1, b0, b1 int) (x, y int, found, ok bool) {
	a, b := m.a[a0:a1], m.b[b0:b1]
	n, mm := len(a), len(b)
	maxD := (n + mm + 1) / 2
	vOffset, vLength := maxD, 2*maxD+2
	if cap(m.vf) < vLength {
		m.vf, m.vb = make([]int, vLength), make([]int, vLength)
	}
	vf, vb := m.vf[:vLength], m.vb[:vLength]
	for i := range vf {
		vf[i], vb[i] = -1, -1
	}
	work := vLength // the setting of vf and vb
	vf[vOffset+1], vb[vOffset+1] = 0, 0
	delta := n - mm
	front := delta%2 != 0 // the forward search meets the backward one
	var k1start, k1end, k2start, k2end int
	for d := range maxD {
		work += 2*d + 2
		if work > *m.budget {
			*m.budget -= work
			return 0, 0, false, false
		}
		for k1 := -d + k1start; k1 <= d-k1end; k1 += 2 {
			k1Offset := vOffset + k1
			var x1 int
			if k1 == -d || (k1 != d && vf[k1Offset-1] < vf[k1Offset+1]) {
				x1 = vf[k1Offset+1]
			} else {
				x1 = vf[k1Offset-1] + 1
			}
			y1 := x1 - k1
			s := x1
			for x1 < n && y1 < mm && a[x1] == b[y1] {
				x1++
				y1++
			}
			work += x1 - s
			vf[k1Offset] = x1
			switch {
			case x1 > n:
				k1end += 2 // ran off the right of the graph
			case y1 > mm:
				k1start += 2 // ran off the bottom
			case front:
				k2Offset := vOffset + delta - k1
				if k2Offset >= 0 && k2Offset < vLength && vb[k2Offset] != -1 {
					if x1 >= n-vb[k2Offset] {
						*m.budget -= work
						return a0 + x1, b0 + y1, true, true
					}
				}
			}
		}
		for k2 := -d + k2start; k2 <= d-k2end; k2 += 2 {
			k2Offset := vOffset + k2
			var x2 int
			if k2 == -d || (k2 != d && vb[k2Offset-1] < vb[k2Offset+1]) {
				x2 = vb[k2Offset+1]
			} else {
				x2 = vb[k2Offset-1] + 1
			}
			y2 := x2 - k2
			s := x2
			for x2 < n && y2 < mm && a[n-x2-1] == b[mm-y2-1] {
				x2++
				y2++
			}
			work += x2 - s
			vb[k2Offset] = x2
			switch {
			case x2 > n:
				k2end += 2
			case y2 > mm:
				k2start += 2
			case !front:
				k1Offset := vOffset + delta - k2
				if k1Offset >= 0 && k1Offset < vLength && vf[k1Offset] != -1 {
					x1 := vf[k1Offset]
					y1 := vOffset + x1 - k1Offset
					if x1 >= n-x2 {
						*m.budget -= work
						return a0 + x1, b0 + y1, true, true
					}
				}
			}
		}
	}
	*m.budget -= work
	return 0, 0, false, true
}
