package source

import (
	"slices"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestZenodoCandidates(t *testing.T) {
	t.Parallel()
	record := string(readFixture(t, "zenodo_record.json"))
	const (
		file = "https://zenodo.org/api/records/9990002/files/consensus_preprint.pdf/content"
		page = "https://zenodo.org/records/9990002"
	)
	tests := []struct {
		name string
		doi  string
		opt  fakeOption
	}{
		{"zenodo doi reads the record", "10.5281/zenodo.9990002", serve("/api/records/9990002", 200, "zenodo_record.json")},
		{"article doi searches related identifiers", "10.5555/tcs.2019.117",
			serveBody("/api/records?q="+urlQueryEscape(`doi:"10.5555/tcs.2019.117" OR metadata.related_identifiers.identifier:"10.5555/tcs.2019.117"`), 200,
				`{"hits":{"hits":[`+record+`],"total":1}}`)},
		{"new files shape", "10.5555/tcs.2019.117",
			serveBody("/api/records", 200, `{"hits":{"hits":[{"id":1,"doi":"10.5281/zenodo.1","metadata":{"access_right":"open","related_identifiers":[{"identifier":"10.5555/tcs.2019.117","relation":"isVersionOf"}]},
				  "files":{"entries":{"consensus_preprint.pdf":{"links":{"self":"`+file+`"}},"data.zip":{"links":{"self":"https://zenodo.org/z.zip"}}}},
				  "links":{"self_html":"`+page+`"}}]}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "zenodo", Config{}, Deps{}, tt.opt)
			res, err := lookup(t, s, work(t, tt.doi))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := urls(res.Candidates), []string{file, page}; !slices.Equal(got, want) {
				t.Fatalf("candidates\n got %q\nwant %q", got, want)
			}
			if res.Candidates[0].Landing || !res.Candidates[1].Landing || res.Closed {
				t.Errorf("result %+v", res)
			}
		})
	}
}

func TestZenodoErrors(t *testing.T) {
	t.Parallel()
	w := work(t, "10.5555/does-not-exist.0000")
	for _, c := range errorCases("/api/records") {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "zenodo", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
		})
	}
	record := string(readFixture(t, "zenodo_record.json"))
	others := []struct {
		name string
		doi  string
		opt  fakeOption
		code fulltext.Code
	}{
		{"no hit", "10.5555/does-not-exist.0000", serveBody("/api/records", 200, `{"hits":{"hits":[],"total":0}}`), fulltext.CodeNotFound},
		{"hit only cites the work", "10.5555/tcs.2019.117",
			serveBody("/api/records", 200, `{"hits":{"hits":[`+strings.Replace(record, `"isVersionOf"`, `"cites"`, 1)+`]}}`), fulltext.CodeNotFound},
		{"record missing", "10.5281/zenodo.1", serveBody("/api/records/1", 404, `{"status":404,"message":"PID does not exist."}`), fulltext.CodeNotFound},
		{"not a search", "10.5555/tcs.2019.117", serveBody("/api/records", 200, `{}`), fulltext.CodeResolverError},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "zenodo", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, work(t, c.doi))
			wantCode(t, err, c.code, -1)
		})
	}
	t.Run("restricted is closed", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t, "zenodo", Config{}, Deps{},
			serveBody("/api/records/9990002", 200, strings.Replace(record, `"access_right": "open"`, `"access_right": "embargoed"`, 1)))
		res, err := lookup(t, s, work(t, "10.5281/zenodo.9990002"))
		if err != nil || !res.Closed || len(res.Candidates) != 0 {
			t.Fatalf("res %+v err %v", res, err)
		}
	})
	transportCases(t, "zenodo", Config{}, Deps{}, w, "/api/records")
}
