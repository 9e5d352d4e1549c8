package simweb

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SetOpenAlexCredits starts a new OpenAlex "day": n list calls are allowed
// before the daily-allowance 429 (n <= 0: none).
func (s *Server) SetOpenAlexCredits(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oaCredits = max(n, 0)
}

// OpenAlexCredits returns what is left of today's list-call allowance.
func (s *Server) OpenAlexCredits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oaCredits
}

// spendOpenAlexCredit charges one list call. It writes the X-RateLimit-*
// headers (after the charge) and reports whether the call may go ahead;
// when it may not, the daily-allowance 429 has been written.
func (s *Server) spendOpenAlexCredit(w http.ResponseWriter, list bool) bool {
	s.mu.Lock()
	ok := true
	if list {
		if s.oaCredits > 0 {
			s.oaCredits--
		} else {
			ok = false
		}
	}
	left := s.oaCredits
	s.mu.Unlock()
	now := s.now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.cfg.OpenAlexCredits))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(left))
	h.Set("X-RateLimit-Reset", strconv.Itoa(int(midnight.Sub(now).Seconds())))
	if !ok {
		writeJSON(w, http.StatusTooManyRequests, "", []byte(SampleBody("openalex_429.json")))
	}
	return ok
}

// isOpenAlexList reports whether path is a (charged) list endpoint.
func isOpenAlexList(path string) bool {
	path = strings.TrimSuffix(path, "/")
	return path == "/works" || path == "/topics"
}

// openalexTopics serves /topics?search=… over the simulated topics: a
// topic matches when its name contains every word of the search.
func (s *Server) openalexTopics(w http.ResponseWriter, q url.Values) {
	words := strings.Fields(strings.ToLower(q.Get("search")))
	results := []any{}
	for _, t := range topics {
		name := strings.ToLower(t.name)
		match := true
		for _, wd := range words {
			match = match && strings.Contains(name, wd)
		}
		if match {
			results = append(results, t.json())
		}
	}
	meta := map[string]any{"count": len(results), "db_response_time_ms": 3, "page": 1, "per_page": 25, "groups_count": nil}
	writeJSON(w, http.StatusOK, "", map[string]any{"meta": meta, "results": results, "group_by": []any{}})
}

// openalexTopic serves /topics/{id}.
func (s *Server) openalexTopic(w http.ResponseWriter, id string) {
	id = id[strings.LastIndex(id, "/")+1:]
	for _, t := range topics {
		if strings.EqualFold(t.id, id) {
			writeJSON(w, http.StatusOK, "", t.json())
			return
		}
	}
	openAlexError(w, http.StatusNotFound, "Not Found", "Topic "+id+" not found")
}
