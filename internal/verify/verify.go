// Package verify is the wrong-work check: it compares what a downloaded
// full text says about itself (a PDF's Info dictionary, XMP metadata and
// first-page text; a JATS document's <article-id> and <article-title>; an
// HTML page's citation_doi, dc.identifier and citation_title) with the work
// that was asked for (its identifiers and title), and gives a verdict:
// match, mismatch or inconclusive.
//
// The check is conservative: a mismatch needs positive evidence of another
// work (an identifier of a scheme we know for the work, declared by the
// document and different from ours, or a title that clearly differs in the
// metadata and is absent from the first page). Anything less is
// inconclusive, and an inconclusive document is accepted.
//
// The check reads only the bytes it is given, within a byte and time
// budget (Config); a hostile PDF (reference cycles, bombs, panics in the
// parser) ends as inconclusive, never as a hang or a crash. A Checker is
// safe for concurrent use.
package verify

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Verdict is the outcome of a wrong-work check.
type Verdict string

// The verdicts.
const (
	Match        Verdict = "match"
	Mismatch     Verdict = "mismatch"
	Inconclusive Verdict = "inconclusive"
)

// Report is what a check found. Its String form goes into the attempt's
// Detail.
type Report struct {
	Verdict Verdict
	// Reason names the evidence behind the verdict.
	Reason string
	// Pages is a PDF's page count (0 when unknown).
	Pages int
	// Encrypted reports a PDF with an /Encrypt dictionary.
	Encrypted bool
	// Preview reports a PDF of at most 2 pages whose first page says it is
	// a preview or sample pages.
	Preview bool
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "work check: %s", r.Verdict)
	if r.Reason != "" {
		fmt.Fprintf(&b, " (%s)", r.Reason)
	}
	switch {
	case r.Pages == 1:
		b.WriteString("; 1 page")
	case r.Pages > 1:
		fmt.Fprintf(&b, "; %d pages", r.Pages)
	}
	if r.Encrypted {
		b.WriteString("; encrypted")
	}
	if r.Preview {
		b.WriteString("; preview")
	}
	return b.String()
}

// Config bounds what a check may spend. Zero fields take the defaults.
type Config struct {
	// MaxReadBytes bounds the bytes the PDF parser may read (objects are
	// re-read on every reference, so this also stops reference cycles).
	// Defaults to 16 MiB.
	MaxReadBytes int64
	// MaxTextBytes bounds the decoded bytes of the first page's content
	// and of the XMP packet that are scanned. Defaults to 64 KiB: the title
	// and identifiers stand at the top of the first page.
	MaxTextBytes int64
	// MaxTime bounds one PDF check. Defaults to 2s.
	MaxTime time.Duration
	// Clock measures MaxTime. Defaults to the system clock.
	Clock fulltext.Clock
}

// Checker runs wrong-work checks. Safe for concurrent use.
type Checker struct{ cfg Config }

// New returns a Checker.
func New(cfg Config) *Checker {
	cfg.MaxReadBytes = cmp.Or(cfg.MaxReadBytes, 16<<20)
	cfg.MaxTextBytes = cmp.Or(cfg.MaxTextBytes, 64<<10)
	cfg.MaxTime = cmp.Or(cfg.MaxTime, 2*time.Second)
	if cfg.Clock == nil {
		cfg.Clock = fulltext.SystemClock{}
	}
	return &Checker{cfg: cfg}
}

// evidence is what a document says about itself.
type evidence struct {
	// declared are identifiers and titles in metadata (Info, XMP, meta
	// tags, <article-id>): the document's own claim.
	declaredIDs    []ident
	declaredTitles []string
	// text is the first page's (or the article's front) text.
	text    string
	textIDs []ident
	// headings marks text made of a page's title and headings: short, but
	// where the work's title must appear.
	headings bool
}

// ident is one identifier found in a document.
type ident struct {
	kind  fulltext.IDKind
	value string
}

// decide turns evidence into a verdict for w.
func decide(w fulltext.Work, ev evidence) (Verdict, string) {
	ours := ourIDs(w)
	if len(ours) == 0 && len(significant(w.Title)) == 0 {
		return Inconclusive, "the work has no identifier or title to compare"
	}
	// Our identifier anywhere is a match.
	for _, id := range append(append([]ident(nil), ev.declaredIDs...), ev.textIDs...) {
		if ours[id.kind] == id.value {
			return Match, fmt.Sprintf("%s %s found", id.kind, id.value)
		}
	}
	wt := significant(w.Title)
	textSim := -1.0
	head := ev.text // the title stands at the top of the first page
	if len(head) > maxIDText {
		head = head[:maxIDText]
	}
	if words := countFields(head, 20); (words >= 20 || ev.headings && words > 0) && len(wt) >= 2 {
		textSim = coverage(wt, head)
		if textSim >= 0.8 {
			return Match, fmt.Sprintf("title on the first page (%.0f%%)", 100*textSim)
		}
	}
	bestDeclared, clash := -1.0, ""
	for _, t := range ev.declaredTitles {
		dt := significant(t)
		if len(dt) < 3 || junkTitle(t) || len(wt) < 2 {
			continue
		}
		s := max(containment(wt, setOf(dt)), containment(dt, setOf(wt)))
		if s >= 0.8 {
			return Match, fmt.Sprintf("title in the metadata (%.0f%%)", 100*s)
		}
		if bestDeclared < 0 || s > bestDeclared {
			bestDeclared, clash = s, t
		}
	}
	// A declared identifier of a scheme we know that is not ours.
	for _, id := range ev.declaredIDs {
		if v, ok := ours[id.kind]; ok && v != id.value {
			return Mismatch, fmt.Sprintf("document declares %s %s, the work is %s", id.kind, id.value, v)
		}
	}
	textClash := textSim >= 0 && textSim < 0.5
	if textClash {
		for _, id := range ev.textIDs {
			if v, ok := ours[id.kind]; ok && v != id.value {
				return Mismatch, fmt.Sprintf("first page names %s %s, not %s, and not the title", id.kind, id.value, v)
			}
		}
		if bestDeclared >= 0 && bestDeclared < 0.5 {
			return Mismatch, fmt.Sprintf("document title %q is not %q", clip(clash, 80), clip(w.Title, 80))
		}
	}
	return Inconclusive, "no decisive identifier or title"
}

// ourIDs are the work's identifiers a document could carry, by scheme.
func ourIDs(w fulltext.Work) map[fulltext.IDKind]string {
	m := map[fulltext.IDKind]string{}
	if w.IDs.DOI != "" {
		m[fulltext.KindDOI] = strings.ToLower(w.IDs.DOI)
	}
	if w.IDs.PMCID != "" {
		m[fulltext.KindPMCID] = strings.ToUpper(w.IDs.PMCID)
	}
	if w.IDs.ArXiv != "" {
		m[fulltext.KindArXiv] = strings.ToLower(w.IDs.ArXiv)
	}
	if w.IDs.OpenAlex != "" {
		m[fulltext.KindOpenAlex] = strings.ToUpper(w.IDs.OpenAlex)
	}
	return m
}

var (
	doiRE      = regexp.MustCompile(`(?i)\b10\.\d{4,9}/[^\s"'<>\]\[(){}]+`)
	openAlexRE = regexp.MustCompile(`(?i)openalex\.org/(?:works/)?(w\d{4,})`)
	pmcidRE    = regexp.MustCompile(`\bPMC\d{4,}\b`)
	arxivRE    = regexp.MustCompile(`(?i)arxiv[:/.\s]*(?:abs/|pdf/)?(\d{4}\.\d{4,5}|[a-z][a-z.\-]*/\d{7})(?:v\d+)?`)
)

// findIDs finds identifiers in free text (at most 50).
func findIDs(s string) []ident {
	// Identifiers stand on the first page's header or footer: the first
	// maxIDText bytes are enough, and a cheap substring test spares each
	// regular expression the text that cannot match it (a 100 KiB page
	// of body text otherwise costs milliseconds per expression).
	if len(s) > maxIDText {
		s = s[:maxIDText]
	}
	var out []ident
	if strings.Contains(s, "10.") {
		for _, m := range doiRE.FindAllString(s, 50) {
			out = append(out, ident{fulltext.KindDOI, cleanDOI(m)})
		}
	}
	if containsFold(s, "openalex") {
		for _, m := range openAlexRE.FindAllStringSubmatch(s, 20) {
			out = append(out, ident{fulltext.KindOpenAlex, strings.ToUpper(m[1])})
		}
	}
	if strings.Contains(s, "PMC") {
		for _, m := range pmcidRE.FindAllString(s, 20) {
			out = append(out, ident{fulltext.KindPMCID, m})
		}
	}
	if containsFold(s, "arxiv") {
		for _, m := range arxivRE.FindAllStringSubmatch(s, 20) {
			out = append(out, ident{fulltext.KindArXiv, strings.ToLower(m[1])})
		}
	}
	return out
}

// containsFold reports whether s contains sub (lower-case ASCII letters)
// in any case, without lowering s: it looks for sub's last letter, in
// either case, with IndexByte (its last letters, v and x, are rare in
// text) and compares the window before it.
func containsFold(s, sub string) bool {
	last := len(sub) - 1
	for _, p := range []byte{sub[last], sub[last] - 'a' + 'A'} {
		for from := last; from < len(s); {
			j := strings.IndexByte(s[from:], p)
			if j < 0 {
				break
			}
			end := from + j + 1
			if strings.EqualFold(s[end-len(sub):end], sub) {
				return true
			}
			from = end
		}
	}
	return false
}

// maxIDText bounds the text findIDs searches.
const maxIDText = 32 << 10

// cleanDOI lower-cases a DOI found in text and drops trailing punctuation.
func cleanDOI(s string) string {
	return strings.ToLower(strings.TrimRight(s, ".,;:'\""))
}

// stop words do not count in title comparisons.
var stop = map[string]bool{
	"a": true, "an": true, "the": true, "of": true, "in": true, "on": true, "for": true, "and": true,
	"with": true, "to": true, "under": true, "across": true, "by": true, "from": true, "at": true,
	"is": true, "are": true, "as": true, "or": true, "its": true, "via": true, "into": true,
}

// tokens splits s into lower-case words of letters and digits.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !isWord(r) })
}

// significant returns the distinct non-stop-word tokens of a title.
func significant(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tokens(s) {
		if stop[t] || seen[t] || len([]rune(t)) < 2 {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}

// coverage is the share of want (lower-case tokens) that occur as tokens
// of text: containment(want, setOf(tokens(text))) without building either
// (the text is a page of up to maxIDText bytes; the title a dozen words).
// It stops as soon as every wanted token was seen.
func coverage(want []string, text string) float64 {
	if len(want) == 0 {
		return 0
	}
	idx := make(map[string]int, len(want))
	// Cheap filters spare the map lookup for most tokens of a page: the
	// wanted lengths (as a bit set) and first bytes.
	var lens uint64
	var first [256]bool
	for i, t := range want {
		idx[t] = i
		lens |= 1 << min(len(t), 63)
		first[t[0]] = true
	}
	seen := make([]bool, len(want))
	n := 0
	var buf []byte
	for i := 0; i < len(text) && n < len(want); {
		c := text[i]
		if c < utf8.RuneSelf && asciiClass[c] == 0 {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			if r, size := utf8.DecodeRuneInString(text[i:]); !isWord(r) {
				i += size
				continue
			}
		}
		// A token: ASCII runs are scanned bytewise; a token that is
		// lower-case ASCII is looked up without a copy.
		start, plain := i, true
		for i < len(text) {
			c := text[i]
			if c < utf8.RuneSelf {
				switch asciiClass[c] {
				case 0:
					goto end
				case 2:
					plain = false
				}
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(text[i:])
			if !isWord(r) {
				break
			}
			plain = false
			i += size
		}
	end:
		tok := text[start:i]
		if lens&(1<<min(len(tok), 63)) == 0 {
			continue
		}
		var k int
		var ok bool
		if plain {
			if !first[tok[0]] {
				continue
			}
			k, ok = idx[tok]
		} else {
			buf = buf[:0]
			for _, r := range tok {
				buf = utf8.AppendRune(buf, unicode.ToLower(r))
			}
			k, ok = idx[string(buf)]
		}
		if ok && !seen[k] {
			seen[k] = true
			n++
		}
	}
	return float64(n) / float64(len(want))
}

// asciiClass sorts ASCII bytes for coverage: 0 separates tokens, 1 is a
// lower-case letter or digit, 2 an upper-case letter.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 1
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 2
	}
	return t
}()

// isWord reports the runes tokens keeps.
func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] != 0
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// countFields counts the space-separated fields of s, up to limit.
func countFields(s string, limit int) int {
	n, in := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			in = false
			continue
		}
		if !in {
			in = true
			if n++; n >= limit {
				return n
			}
		}
	}
	return n
}

func setOf(ts []string) map[string]bool {
	m := make(map[string]bool, len(ts))
	for _, t := range ts {
		m[t] = true
	}
	return m
}

// containment is the share of want found in have.
func containment(want []string, have map[string]bool) float64 {
	if len(want) == 0 {
		return 0
	}
	n := 0
	for _, t := range want {
		if have[t] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

// junkTitle reports Info titles that name a file or a tool, not the work.
func junkTitle(t string) bool {
	l := strings.ToLower(t)
	for _, s := range []string{".doc", ".tex", ".dvi", ".pdf", ".indd", ".rtf", "untitled", "microsoft word", "powerpoint"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
