package simweb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// lastModified is the fixed Last-Modified of every simulated file, so that
// responses are byte-for-byte deterministic.
var lastModified = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// dispatch routes a request by its Host header. Requests about the cast
// works that manifest.json lists are answered from the samples first.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	host := hostOf(r)
	if r.URL.Path == "/robots.txt" {
		rules := "User-agent: *\nAllow: /\n"
		if host == robotsHost {
			rules = "User-agent: *\nDisallow: /h/\n"
		}
		writeText(w, http.StatusOK, "text/plain; charset=utf-8", rules)
		return
	}
	if isBulk(host, r) {
		s.bulk(w, r)
		return
	}
	if !s.admit(w, r, host) {
		return
	}
	if e := s.replay.match(host, r); e != nil {
		e.serve(w, r)
		return
	}
	switch host {
	case "api.openalex.org":
		s.openalex(w, r)
	case "api.unpaywall.org", "api.oadoi.org":
		s.unpaywall(w, r)
	case "export.arxiv.org":
		s.arxivAPI(w, r)
	case "arxiv.org", "www.arxiv.org":
		s.arxivSite(w, r)
	case "doi.org", "dx.doi.org", "www.doi.org":
		s.doiOrg(w, r)
	case "api.crossref.org":
		s.crossref(w, r)
	case "www.ebi.ac.uk", "europepmc.org":
		s.europepmc(w, r, host)
	case "www.ncbi.nlm.nih.gov", "pmc.ncbi.nlm.nih.gov", "eutils.ncbi.nlm.nih.gov":
		s.ncbi(w, r, host)
	case "ftp.ncbi.nlm.nih.gov":
		s.ftpNCBI(w, r)
	case "web.archive.org", "archive.org":
		s.wayback(w, r, host)
	case "api.semanticscholar.org":
		s.semanticScholar(w, r)
	case "api.core.ac.uk", "core.ac.uk":
		s.core(w, r, host)
	case "doaj.org":
		s.doaj(w, r)
	case "zenodo.org":
		s.zenodo(w, r)
	case "api.archives-ouvertes.fr", "hal.science":
		s.hal(w, r, host)
	case "api.osf.io", "osf.io", "files.osf.io":
		s.osf(w, r, host)
	case "api.figshare.com", "ndownloader.figshare.com":
		s.figshare(w, r)
	case hostileHost, robotsHost:
		s.hostile(w, r)
	default:
		if isPublisherHost(host) {
			s.publisher(w, r, host)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusMisdirectedRequest)
		_, _ = w.Write([]byte("simweb: no such host " + host + "\n"))
	}
}

// admit enforces the credentials a service requires before anything,
// the cast replay included, answers: Unpaywall's email (422) and CORE's
// Bearer token (401).
func (s *Server) admit(w http.ResponseWriter, r *http.Request, host string) bool {
	switch host {
	case "api.unpaywall.org", "api.oadoi.org":
		email := strings.TrimSpace(r.URL.Query().Get("email"))
		if email == "" || !strings.Contains(email, "@") || strings.EqualFold(email, "test@example.com") {
			writeJSON(w, http.StatusUnprocessableEntity, "", sample("unpaywall_422.json"))
			return false
		}
	case "api.core.ac.uk":
		// The slash-less search path redirects before any auth check.
		if r.URL.Path != "/v3/search/works" && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			writeJSON(w, http.StatusUnauthorized, "", map[string]any{"message": "Unauthorized: an API key is required"})
			return false
		}
	}
	return true
}

func isPublisherHost(host string) bool {
	for _, suf := range []string{"example.org", "example.com", "example.edu"} {
		if host == suf || strings.HasSuffix(host, "."+suf) {
			return true
		}
	}
	// The cast's publishers: www.example-academic.com, www.example-history.org …
	return strings.Contains(host, "example-")
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	var body []byte
	switch b := v.(type) {
	case []byte:
		body = b
	default:
		var err error
		body, err = json.MarshalIndent(v, "", "  ")
		if err != nil {
			http.Error(w, "simweb: encode: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	if contentType == "" {
		contentType = "application/json"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeText(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// serveBytes serves a file with Range, HEAD and conditional-request
// support (strong ETag from the content, fixed Last-Modified).
func serveBytes(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	sum := sha256.Sum256(body)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, "", lastModified, bytes.NewReader(body))
}

func servePDF(w http.ResponseWriter, r *http.Request, filename string, body []byte) {
	if filename != "" {
		w.Header().Set("Content-Disposition", `inline; filename="`+filename+`"`)
	}
	serveBytes(w, r, "application/pdf", body)
}
