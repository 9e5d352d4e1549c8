package fulltext

import "time"

// Candidate is one URL that may hold the full text of a work, with where it
// came from.
type Candidate struct {
	URL string `json:"url"`
	// Kind is the expected full-text kind; the download verifies it.
	Kind Kind `json:"kind"`
	// Source is the source name (DESIGN.md §5) that produced the candidate.
	Source string `json:"source"`
	// Technique says how the URL was found ("best_oa_location.pdf_url",
	// "citation_pdf_url", "jsonld", …).
	Technique string `json:"technique,omitempty"`
	// Version is submittedVersion, acceptedVersion or publishedVersion
	// when the source says.
	Version string `json:"version,omitempty"`
	License string `json:"license,omitempty"`
	// Landing marks a landing page to be scraped rather than a file.
	Landing bool `json:"landing,omitempty"`
	// Referer is sent with the request (the page the link was found on).
	Referer string `json:"referer,omitempty"`
	// Score orders candidates within a source (higher first).
	Score float64 `json:"score,omitempty"`
}

// Attempt is the record of one candidate tried for a work (or one source
// asked): what was fetched, how, and the verdict.
type Attempt struct {
	JobID      int64         `json:"job_id,omitempty"`
	Epoch      int64         `json:"epoch,omitempty"`
	Seq        int           `json:"seq"`
	Source     string        `json:"source"`
	Host       string        `json:"host,omitempty"`
	URL        string        `json:"url,omitempty"`
	Technique  string        `json:"technique,omitempty"`
	Kind       Kind          `json:"kind,omitempty"`
	HTTPStatus int           `json:"http_status,omitempty"`
	Bytes      int64         `json:"bytes,omitempty"`
	Duration   time.Duration `json:"duration_ns,omitempty"`
	Code       Code          `json:"code"`
	Detail     string        `json:"detail,omitempty"`
	Hops       []string      `json:"hops,omitempty"`
	// Version and License are the candidate's provenance as its source
	// stated it (Candidate.Version, Candidate.License), when it did.
	Version string `json:"version,omitempty"`
	License string `json:"license,omitempty"`
	// Parent is the Seq of the attempt that produced this candidate (a
	// landing page that yielded a PDF link), or 0.
	Parent int       `json:"parent,omitempty"`
	At     time.Time `json:"at"`
}
