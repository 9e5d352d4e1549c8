package simweb

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// hostileHost serves every hostile route's files and pages.
const hostileHost = "maze.example.com"

// robotsHost disallows /h/ in its robots.txt.
const robotsHost = "robots.example.org"

func (wk Work) hostileURL(leaf string) string {
	host := hostileHost
	if wk.Route == RouteRobots {
		host = robotsHost
	}
	return fmt.Sprintf("https://%s/h/%d/%s", host, wk.n, leaf)
}

// privateTargets are the addresses the private-redirect route sends
// clients to; the ports are closed so a broken guard connects nowhere.
var privateTargets = []string{
	"http://127.0.0.1:9/admin/file.pdf",
	"http://[::1]:9/admin/file.pdf",
	"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
	"http://10.0.0.1/internal/file.pdf",
}

// bombMembers is how many 1 MiB gzip members of zeros follow the PDF
// header in the bomb: it inflates to just over 300 MiB, above the default
// 256 MiB body cap.
const bombMembers = 300

// gzipBomb returns a multi-member gzip stream whose first member is a PDF
// header and whose others each inflate to 1 MiB of zeros (about 1 KiB
// each on the wire). Built once, on first use.
func (s *Server) gzipBomb() []byte {
	s.bombOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write([]byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"))
		_ = zw.Close()
		var member bytes.Buffer
		zw, _ = gzip.NewWriterLevel(&member, gzip.BestCompression)
		_, _ = zw.Write(make([]byte, 1<<20))
		_ = zw.Close()
		for range bombMembers {
			b.Write(member.Bytes())
		}
		s.bomb = b.Bytes()
	})
	return s.bomb
}

// hostile serves maze.example.com/h/{n}/….
func (s *Server) hostile(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/h/")
	num, leaf, _ := strings.Cut(rest, "/")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 0 || n >= len(s.world.Works) || !isHostile(s.world.Works[n].Route) {
		publisherNotFound(w)
		return
	}
	wk := s.world.Works[n]
	if !strings.HasPrefix(wk.hostileURL(""), "https://"+hostOf(r)+"/") {
		publisherNotFound(w)
		return
	}
	switch wk.Route {
	case RouteRedirectChain:
		// file.pdf → hop/1 → … → hop/10 → final.pdf: 11 redirects.
		switch {
		case leaf == "file.pdf":
			http.Redirect(w, r, "/h/"+num+"/hop/1", http.StatusFound)
		case strings.HasPrefix(leaf, "hop/"):
			k, _ := strconv.Atoi(strings.TrimPrefix(leaf, "hop/"))
			if k >= 10 {
				http.Redirect(w, r, "/h/"+num+"/final.pdf", http.StatusFound)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/h/%s/hop/%d", num, k+1), http.StatusFound)
		case leaf == "final.pdf":
			servePDF(w, r, "", wk.PDF())
		default:
			publisherNotFound(w)
		}
	case RouteRedirectLoop:
		switch leaf {
		case "file.pdf", "loop/b":
			http.Redirect(w, r, "/h/"+num+"/loop/a", http.StatusFound)
		case "loop/a":
			http.Redirect(w, r, "https://"+hostileHost+"/h/"+num+"/loop/b", http.StatusMovedPermanently)
		default:
			publisherNotFound(w)
		}
	case RoutePrivateRedirect:
		http.Redirect(w, r, privateTargets[n%len(privateTargets)], http.StatusFound)
	case RoutePrivateLink:
		target := privateTargets[n%len(privateTargets)]
		writeText(w, http.StatusOK, "text/html; charset=utf-8", fmt.Sprintf(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%[1]s</title>
<meta name="citation_title" content="%[1]s">
<meta name="citation_pdf_url" content="%[2]s">
</head><body><h1>%[1]s</h1><a href="%[2]s">Download PDF</a></body></html>
`, html.EscapeString(wk.Title), html.EscapeString(target)))
	case RouteGzipBomb:
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(s.gzipBomb())))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(s.gzipBomb())
		}
	case RouteLengthLie:
		body := wk.PDF()
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)+4096))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
			dropConn(w, false)
		}
	case RouteDrip:
		w.Header().Set("Content-Type", "application/pdf")
		s.drip(w, r, http.StatusOK, wk.PDF(), 4096, 5*time.Millisecond)
	case RouteBadFilename:
		w.Header().Set("Content-Disposition", `attachment; filename="../../x"`)
		serveBytes(w, r, "application/pdf", wk.PDF())
	case RouteJSAsPDF:
		js := fmt.Sprintf("/* %s */\n(function(){var u='/h/%d/real.pdf';window.location.replace(u);})();\n", strings.ReplaceAll(wk.Title, "*/", ""), n)
		serveBytes(w, r, "application/pdf", []byte(js))
	case RouteOtherWork:
		other := s.world.Works[(n+1)%len(s.world.Works)]
		servePDF(w, r, "", other.PDF())
	case RouteRobots:
		// Only a client that ignores robots.txt gets here.
		writeText(w, http.StatusOK, "text/html; charset=utf-8", articlePage(wk, false))
	}
}

// drip writes body in chunks with a pause between them, until done, the
// client leaves or the server closes.
func (s *Server) drip(w http.ResponseWriter, r *http.Request, status int, body []byte, chunk int, delay time.Duration) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(w)
	t := time.NewTicker(delay)
	defer t.Stop()
	for len(body) > 0 {
		k := min(chunk, len(body))
		if _, err := w.Write(body[:k]); err != nil {
			return
		}
		_ = rc.Flush()
		body = body[k:]
		if len(body) == 0 {
			return
		}
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
}
