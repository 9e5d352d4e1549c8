// Package fulltext is the domain of oafetch: work identifiers and their
// normalisation, jobs and the job state machine, candidates, outcome codes,
// artifacts, and the JobStore and ArtifactStore interfaces that the storage
// packages implement.
//
// It imports only the standard library so that every other package can share
// its types without cycles.
package fulltext

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// IDKind names the scheme of a work identifier.
type IDKind string

// The identifier schemes oafetch understands.
const (
	KindDOI      IDKind = "doi"
	KindPMID     IDKind = "pmid"
	KindPMCID    IDKind = "pmcid"
	KindArXiv    IDKind = "arxiv"
	KindOpenAlex IDKind = "openalex"
)

// WorkID is one canonical identifier: a scheme and a normalised value.
// Its String form ("doi:10.5555/x", "pmcid:PMC123", "arxiv:1905.99123",
// "openalex:W123", "pmid:123") is the export's work_id.
type WorkID struct {
	Kind  IDKind
	Value string
}

func (id WorkID) String() string {
	if id.Kind == "" {
		return ""
	}
	return string(id.Kind) + ":" + id.Value
}

// IsZero reports whether id is the zero WorkID.
func (id WorkID) IsZero() bool { return id.Kind == "" }

// IDs holds every identifier known for a work, each in canonical form
// (DOI lower-cased without prefix, PMCID with its "PMC" prefix, arXiv id
// without version, OpenAlex id as "W…"). Empty means unknown.
type IDs struct {
	DOI      string `json:"doi,omitempty"`
	PMID     string `json:"pmid,omitempty"`
	PMCID    string `json:"pmcid,omitempty"`
	ArXiv    string `json:"arxiv,omitempty"`
	OpenAlex string `json:"openalex,omitempty"`
}

// Set records id in ids, leaving other schemes alone.
func (ids *IDs) Set(id WorkID) {
	switch id.Kind {
	case KindDOI:
		ids.DOI = id.Value
		if ax, ok := arxivFromDOI(id.Value); ok && ids.ArXiv == "" {
			ids.ArXiv = ax
		}
	case KindPMID:
		ids.PMID = id.Value
	case KindPMCID:
		ids.PMCID = id.Value
	case KindArXiv:
		ids.ArXiv = id.Value
	case KindOpenAlex:
		ids.OpenAlex = id.Value
	}
}

// Merge fills the identifiers ids lacks from other.
func (ids *IDs) Merge(other IDs) {
	if ids.DOI == "" {
		ids.DOI = other.DOI
	}
	if ids.PMID == "" {
		ids.PMID = other.PMID
	}
	if ids.PMCID == "" {
		ids.PMCID = other.PMCID
	}
	if ids.ArXiv == "" {
		ids.ArXiv = other.ArXiv
	}
	if ids.OpenAlex == "" {
		ids.OpenAlex = other.OpenAlex
	}
}

// Work is one scholarly work to fetch: the identifier the user gave, every
// identifier known for it, and what the input said about it.
type Work struct {
	ID    WorkID `json:"id"`
	IDs   IDs    `json:"ids"`
	Title string `json:"title,omitempty"`
	Year  int    `json:"year,omitempty"`
	// Record is the OpenAlex work object when the input carried one; sources
	// read its locations instead of asking the API again.
	Record json.RawMessage `json:"record,omitempty"`
}

// Key is the idempotency key of the work: the hex SHA-256 of its canonical
// identity. Planning the same work twice creates one job.
func (w Work) Key() string {
	sum := sha256.Sum256([]byte(w.ID.String()))
	return hex.EncodeToString(sum[:])
}

// ErrBadID is wrapped by every identifier parse error.
var ErrBadID = errors.New("not a recognised work identifier")

// IDError describes an input that is not an identifier.
type IDError struct {
	Input  string
	Reason string
}

func (e *IDError) Error() string {
	in := e.Input
	if len(in) > 80 {
		in = in[:77] + "..."
	}
	return fmt.Sprintf("%q: %s", in, e.Reason)
}

func (e *IDError) Unwrap() error { return ErrBadID }

var (
	doiRe         = regexp.MustCompile(`^10\.\d{4,9}/\S+$`)
	digitsRe      = regexp.MustCompile(`^\d{1,10}$`)
	pmcRe         = regexp.MustCompile(`^(?i:pmc)?(\d{1,10})$`)
	arxivNewRe    = regexp.MustCompile(`^(\d{4}\.\d{4,5})(v\d+)?$`)
	arxivOldRe    = regexp.MustCompile(`^([a-zA-Z][a-zA-Z\-]*(?:\.[a-zA-Z]{2})?/\d{7})(v\d+)?$`)
	openAlexRe    = regexp.MustCompile(`^[wW](\d{1,12})$`)
	arxivDOIRe    = regexp.MustCompile(`^10\.48550/arxiv\.(.+)$`)
	doiURLPrefixs = []string{"doi.org/", "dx.doi.org/", "www.doi.org/"}
)

// ParseID parses one identifier in any of the accepted spellings:
//
//	10.5555/x  doi:10.5555/x  https://doi.org/10.5555/x  10.5555%2Fx  info:doi/10.5555/x
//	pmid:123  https://pubmed.ncbi.nlm.nih.gov/123/
//	PMC123  pmcid:PMC123  https://www.ncbi.nlm.nih.gov/pmc/articles/PMC123/
//	arXiv:1905.99123v2  arXiv:math/0309999  https://arxiv.org/abs/1905.99123
//	W123  openalex:W123  https://openalex.org/W123
//
// The error wraps ErrBadID and names the input.
func ParseID(raw string) (WorkID, error) {
	s := strings.TrimSpace(raw)
	s = strings.Trim(s, "\"'<>")
	if s == "" {
		return WorkID{}, &IDError{Input: raw, Reason: "empty identifier"}
	}
	if id, ok := parseURLID(s); ok {
		return id, nil
	}
	scheme, rest, hasScheme := strings.Cut(s, ":")
	if hasScheme {
		rest = strings.TrimSpace(rest)
		switch strings.ToLower(strings.TrimSpace(scheme)) {
		case "doi":
			return parseDOI(raw, rest)
		case "info":
			if after, ok := strings.CutPrefix(strings.ToLower(rest), "doi/"); ok {
				return parseDOI(raw, rest[len(rest)-len(after):])
			}
		case "pmid":
			if digitsRe.MatchString(rest) {
				return WorkID{KindPMID, strings.TrimLeft(rest, "0")}, nil
			}
			return WorkID{}, &IDError{Input: raw, Reason: "a PMID is 1 to 10 digits"}
		case "pmcid", "pmc":
			return parsePMC(raw, rest)
		case "arxiv":
			return parseArXiv(raw, rest)
		case "openalex":
			return parseOpenAlex(raw, rest)
		}
	}
	switch {
	case strings.HasPrefix(s, "10."):
		return parseDOI(raw, s)
	case strings.HasPrefix(strings.ToUpper(s), "PMC"):
		return parsePMC(raw, s)
	case openAlexRe.MatchString(s):
		return parseOpenAlex(raw, s)
	case digitsRe.MatchString(s):
		return WorkID{}, &IDError{Input: raw, Reason: "a bare number is ambiguous; write pmid:" + s}
	}
	return WorkID{}, &IDError{Input: raw, Reason: "expected a DOI, pmid:N, PMCn, arXiv:id or an OpenAlex id"}
}

func parseURLID(s string) (WorkID, bool) {
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		for _, p := range doiURLPrefixs {
			if strings.HasPrefix(lower, p) {
				id, err := parseDOI(s, s[len(p):])
				return id, err == nil
			}
		}
		return WorkID{}, false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return WorkID{}, false
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	path := u.EscapedPath()
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	path = strings.Trim(path, "/")
	var id WorkID
	switch {
	case host == "doi.org" || host == "dx.doi.org":
		id, err = parseDOI(s, path)
	case host == "pubmed.ncbi.nlm.nih.gov":
		if digitsRe.MatchString(path) {
			return WorkID{KindPMID, strings.TrimLeft(path, "0")}, true
		}
		return WorkID{}, false
	case host == "ncbi.nlm.nih.gov" || host == "pmc.ncbi.nlm.nih.gov" || host == "europepmc.org":
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(strings.ToUpper(seg), "PMC") {
				if id, err := parsePMC(s, seg); err == nil {
					return id, true
				}
			}
		}
		return WorkID{}, false
	case host == "arxiv.org" || host == "export.arxiv.org":
		for _, p := range []string{"abs/", "pdf/"} {
			if after, ok := strings.CutPrefix(path, p); ok {
				id, err = parseArXiv(s, strings.TrimSuffix(after, ".pdf"))
				return id, err == nil
			}
		}
		return WorkID{}, false
	case host == "openalex.org" || host == "api.openalex.org":
		id, err = parseOpenAlex(s, path[strings.LastIndex(path, "/")+1:])
	default:
		return WorkID{}, false
	}
	return id, err == nil
}

func parseDOI(raw, s string) (WorkID, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "%") {
		if dec, err := url.PathUnescape(s); err == nil {
			s = dec
		}
	}
	// DOIs copied out of prose carry sentence punctuation.
	s = strings.TrimRight(s, ".,;")
	s = strings.ToLower(s)
	if !doiRe.MatchString(s) {
		return WorkID{}, &IDError{Input: raw, Reason: "a DOI looks like 10.NNNN/suffix"}
	}
	return WorkID{KindDOI, s}, nil
}

func parsePMC(raw, s string) (WorkID, error) {
	m := pmcRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return WorkID{}, &IDError{Input: raw, Reason: "a PMCID looks like PMC123456"}
	}
	return WorkID{KindPMCID, "PMC" + strings.TrimLeft(m[1], "0")}, nil
}

func parseArXiv(raw, s string) (WorkID, error) {
	s = strings.TrimSpace(s)
	if m := arxivNewRe.FindStringSubmatch(s); m != nil {
		return WorkID{KindArXiv, m[1]}, nil
	}
	if m := arxivOldRe.FindStringSubmatch(s); m != nil {
		archive, num, _ := strings.Cut(m[1], "/")
		if a, sub, ok := strings.Cut(archive, "."); ok {
			archive = strings.ToLower(a) + "." + strings.ToUpper(sub)
		} else {
			archive = strings.ToLower(archive)
		}
		return WorkID{KindArXiv, archive + "/" + num}, nil
	}
	return WorkID{}, &IDError{Input: raw, Reason: "an arXiv id looks like 1905.99123 or math/0309999"}
}

func parseOpenAlex(raw, s string) (WorkID, error) {
	m := openAlexRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return WorkID{}, &IDError{Input: raw, Reason: "an OpenAlex work id looks like W123456"}
	}
	return WorkID{KindOpenAlex, "W" + m[1]}, nil
}

func arxivFromDOI(doi string) (string, bool) {
	m := arxivDOIRe.FindStringSubmatch(doi)
	if m == nil {
		return "", false
	}
	id, err := parseArXiv(doi, m[1])
	if err != nil {
		return "", false
	}
	return id.Value, true
}

// ParseWork parses one input line: an identifier in any accepted spelling,
// or a whole OpenAlex work JSON object. Blank lines and lines starting with
// '#' are reported as ErrSkipLine.
func ParseWork(line string) (Work, error) {
	s := strings.TrimSpace(line)
	if s == "" || strings.HasPrefix(s, "#") {
		return Work{}, ErrSkipLine
	}
	if strings.HasPrefix(s, "{") {
		return ParseOpenAlexWork([]byte(s))
	}
	id, err := ParseID(s)
	if err != nil {
		return Work{}, err
	}
	w := Work{ID: id}
	w.IDs.Set(id)
	return w, nil
}

// ErrSkipLine marks an input line that holds no work (blank or comment).
var ErrSkipLine = errors.New("blank or comment line")

// openAlexWork is the part of an OpenAlex work object that identifies it.
type openAlexWork struct {
	ID              string `json:"id"`
	DOI             string `json:"doi"`
	Title           string `json:"title"`
	DisplayName     string `json:"display_name"`
	PublicationYear int    `json:"publication_year"`
	IDs             struct {
		OpenAlex string          `json:"openalex"`
		DOI      string          `json:"doi"`
		PMID     string          `json:"pmid"`
		PMCID    json.RawMessage `json:"pmcid"`
	} `json:"ids"`
}

// ParseOpenAlexWork turns an OpenAlex work object into a Work. The work id is
// the DOI when the record has one, else the OpenAlex id. The record is kept
// so that sources can read its locations.
func ParseOpenAlexWork(data []byte) (Work, error) {
	var rec openAlexWork
	if err := json.Unmarshal(data, &rec); err != nil {
		return Work{}, &IDError{Input: string(data), Reason: "invalid OpenAlex JSON: " + err.Error()}
	}
	var w Work
	for _, s := range []string{rec.ID, rec.IDs.OpenAlex} {
		if id, err := ParseID(s); err == nil && id.Kind == KindOpenAlex {
			w.IDs.OpenAlex = id.Value
			break
		}
	}
	for _, s := range []string{rec.DOI, rec.IDs.DOI} {
		if id, err := ParseID(s); err == nil && id.Kind == KindDOI {
			w.IDs.Set(id)
			break
		}
	}
	if id, err := ParseID(pmidForm(rec.IDs.PMID)); err == nil && id.Kind == KindPMID {
		w.IDs.PMID = id.Value
	}
	if pmc := pmcidForm(rec.IDs.PMCID); pmc != "" {
		if id, err := parsePMC(pmc, pmc); err == nil {
			w.IDs.PMCID = id.Value
		}
	}
	switch {
	case w.IDs.DOI != "":
		w.ID = WorkID{KindDOI, w.IDs.DOI}
	case w.IDs.OpenAlex != "":
		w.ID = WorkID{KindOpenAlex, w.IDs.OpenAlex}
	case w.IDs.PMCID != "":
		w.ID = WorkID{KindPMCID, w.IDs.PMCID}
	case w.IDs.PMID != "":
		w.ID = WorkID{KindPMID, w.IDs.PMID}
	default:
		return Work{}, &IDError{Input: string(data), Reason: "OpenAlex record has neither a DOI nor an OpenAlex id"}
	}
	w.Title = cmpOr(rec.Title, rec.DisplayName)
	w.Year = rec.PublicationYear
	w.Record = append(json.RawMessage(nil), data...)
	return w, nil
}

func pmidForm(s string) string {
	s = strings.TrimSpace(s)
	if digitsRe.MatchString(s) {
		return "pmid:" + s
	}
	return s
}

// pmcidForm accepts the string URL form and the bare digits older records carry.
func pmcidForm(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return ""
		}
		s = n.String()
	}
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	return s[strings.LastIndex(s, "/")+1:]
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
