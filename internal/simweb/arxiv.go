package simweb

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

var versionRe = regexp.MustCompile(`^(.+?)v(\d+)$`)

// splitVersion splits "1905.99123v2" into ("1905.99123", 2); version 0
// means none was given.
func splitVersion(id string) (string, int) {
	if m := versionRe.FindStringSubmatch(id); m != nil {
		v, _ := strconv.Atoi(m[2])
		return m[1], v
	}
	return id, 0
}

// arxivWork finds the arXiv work with the bare id and its version count.
func (s *Server) arxivWork(id string) (Work, int, bool) {
	wk, ok := s.world.Lookup("arXiv:" + id)
	if !ok || wk.IDs.ArXiv == "" {
		return Work{}, 0, false
	}
	if wk.Route == RouteCast {
		return wk, 2, true
	}
	if wk.Route != RouteArXiv {
		return Work{}, 0, false
	}
	return wk, wk.arxivVersions(), true
}

// arxivAPI serves export.arxiv.org/api/query?id_list=… as an Atom feed
// in the current (2025+) format. A malformed id is a 400 error feed.
func (s *Server) arxivAPI(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/query" {
		writeText(w, http.StatusNotFound, "text/html; charset=utf-8", "<html><body><h1>Not Found</h1></body></html>")
		return
	}
	q := r.URL.Query()
	idList := q.Get("id_list")
	var entries []string
	if idList != "" {
		for raw := range strings.SplitSeq(idList, ",") {
			raw = strings.TrimSpace(raw)
			id, _ := splitVersion(raw)
			if !arxivIDRe.MatchString(id) {
				writeText(w, http.StatusBadRequest, "application/atom+xml; charset=utf-8", arxivErrorFeed(raw))
				return
			}
			wk, versions, ok := s.arxivWork(id)
			if !ok {
				continue
			}
			entries = append(entries, arxivEntry(wk, id, versions))
		}
	}
	var b strings.Builder
	b.WriteString(`<?xml version='1.0' encoding='UTF-8'?>` + "\n")
	b.WriteString(`<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">` + "\n")
	fmt.Fprintf(&b, "  <id>https://arxiv.org/api/simweb</id>\n  <title>arXiv Query: search_query=%s&amp;id_list=%s&amp;start=0&amp;max_results=10</title>\n",
		html.EscapeString(q.Get("search_query")), html.EscapeString(idList))
	fmt.Fprintf(&b, "  <updated>%s</updated>\n", s.now().UTC().Format("2006-01-02T15:04:05Z"))
	fmt.Fprintf(&b, "  <opensearch:itemsPerPage>10</opensearch:itemsPerPage>\n  <opensearch:totalResults>%d</opensearch:totalResults>\n  <opensearch:startIndex>0</opensearch:startIndex>\n", len(entries))
	for _, e := range entries {
		b.WriteString(e)
	}
	b.WriteString("</feed>\n")
	writeText(w, http.StatusOK, "application/atom+xml; charset=utf-8", b.String())
}

var arxivIDRe = regexp.MustCompile(`^(\d{4}\.\d{4,5}|[a-z][a-z\-]*(\.[A-Z]{2})?/\d{7})$`)

func arxivEntry(wk Work, id string, versions int) string {
	if wk.Route == RouteCast {
		// The cast entry comes verbatim from the sample.
		feed := string(sample("arxiv_atom.xml"))
		start, end := strings.Index(feed, "  <entry>"), strings.Index(feed, "</entry>")
		if start >= 0 && end > start {
			return feed[start:end+len("</entry>")] + "\n"
		}
	}
	date := wk.publicationDate()
	return fmt.Sprintf(`  <entry>
    <id>http://arxiv.org/abs/%[1]sv%[2]d</id>
    <title>%[3]s</title>
    <updated>%[4]sT12:00:00Z</updated>
    <link href="https://arxiv.org/abs/%[1]sv%[2]d"/>
    <link href="https://arxiv.org/pdf/%[1]sv%[2]d"/>
    <summary>A simulated preprint about %[5]s.</summary>
    <category term="cs.DC" scheme="http://arxiv.org/schemas/atom"/>
    <published>%[4]sT09:00:00Z</published>
    <arxiv:primary_category term="cs.DC"/>
    <author>
      <name>Sim Author%[6]d</name>
    </author>
  </entry>
`, id, versions, html.EscapeString(wk.Title), date, html.EscapeString(strings.ToLower(wk.Title)), wk.n)
}

func arxivErrorFeed(id string) string {
	e := html.EscapeString(id)
	return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">ArXiv Query: search_query=&amp;id_list=` + e + `&amp;start=0&amp;max_results=10</title>
  <id>http://arxiv.org/api/simweb-error</id>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_` + e + `</id>
    <title>Error</title>
    <summary>incorrect id format for ` + e + `</summary>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_` + e + `" rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
</feed>
`
}

// arxivSite serves arxiv.org/pdf/{id}[vN] (".pdf" answers 301 to the
// bare form) and arxiv.org/abs/{id}[vN].
func (s *Server) arxivSite(w http.ResponseWriter, r *http.Request) {
	kind, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || (kind != "pdf" && kind != "abs") {
		arxivNotFound(w)
		return
	}
	if kind == "pdf" && strings.HasSuffix(rest, ".pdf") {
		http.Redirect(w, r, "https://arxiv.org/pdf/"+strings.TrimSuffix(rest, ".pdf"), http.StatusMovedPermanently)
		return
	}
	id, v := splitVersion(rest)
	wk, versions, found := s.arxivWork(id)
	if !found || v > versions {
		arxivNotFound(w)
		return
	}
	if v == 0 {
		v = versions
	}
	if kind == "abs" {
		page := fmt.Sprintf(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>[%[1]s] %[2]s</title>
<meta name="citation_title" content="%[2]s">
<meta name="citation_date" content="%[3]s">
<meta name="citation_pdf_url" content="https://arxiv.org/pdf/%[1]sv%[4]d">
<meta name="citation_arxiv_id" content="%[1]s">
</head><body><h1 class="title">%[2]s</h1>
<a href="/pdf/%[1]sv%[4]d" class="download-pdf">View PDF</a></body></html>
`, id, html.EscapeString(wk.Title), strings.ReplaceAll(wk.publicationDate(), "-", "/"), v)
		writeText(w, http.StatusOK, "text/html; charset=utf-8", page)
		return
	}
	servePDF(w, r, "", wk.PDF())
}

func arxivNotFound(w http.ResponseWriter) {
	writeText(w, http.StatusNotFound, "text/html; charset=utf-8",
		"<!DOCTYPE html><html><head><title>Article identifier not recognized</title></head><body><h1>Article identifier not recognized</h1></body></html>\n")
}
