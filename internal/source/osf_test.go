package source

import (
	"slices"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestOSFCandidates(t *testing.T) {
	t.Parallel()
	s, f := setup(t, "osf", Config{}, Deps{},
		serve("/v2/preprints/q7x2k/", 200, "osf_preprint.json"),
		serve("/v2/files/6a1b2c3d4e5f6a7b8c9d0e1f/", 200, "osf_file.json"))
	res, err := lookup(t, s, work(t, "10.31219/osf.io/q7x2k"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://osf.io/download/6a1b2c3d4e5f6a7b8c9d0e1f/", "https://osf.io/q7x2k/download", "https://osf.io/preprints/osf/q7x2k"}
	if got := urls(res.Candidates); !slices.Equal(got, want) {
		t.Fatalf("candidates\n got %q\nwant %q", got, want)
	}
	if !res.Candidates[2].Landing || res.Candidates[0].Version != "submittedVersion" || res.IDs.DOI != "" || res.Closed {
		t.Errorf("result %+v", res)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests", n)
	}
}

func TestOSFApplicable(t *testing.T) {
	t.Parallel()
	s, _ := setup(t, "osf", Config{}, Deps{})
	for id, want := range map[string]bool{
		"10.31219/osf.io/q7x2k": true, "10.31234/osf.io/abcd5_v1": true, "10.5555/jsim.2021.0042": false, "PMC1": false,
	} {
		if got := s.Applicable(work(t, id)); got != want {
			t.Errorf("Applicable(%s) = %v", id, got)
		}
	}
	_, err := lookup(t, s, work(t, "10.5555/x"))
	wantCode(t, err, fulltext.CodeSkipNotApplicable, -1)
}

func TestOSFErrors(t *testing.T) {
	t.Parallel()
	const path = "/v2/preprints/zzzzz/"
	w := work(t, "10.31219/osf.io/zzzzz")
	for _, c := range errorCases(path) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "osf", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
		})
	}
	preprint := string(readFixture(t, "osf_preprint.json"))
	others := []struct {
		name string
		opts []fakeOption
		code fulltext.Code
	}{
		{"not found", []fakeOption{serveBody(path, 404, `{"errors":[{"detail":"Not found."}]}`)}, fulltext.CodeNotFound},
		{"another preprint", []fakeOption{serve(path, 200, "osf_preprint.json")}, fulltext.CodeResolverError},
		{"file 500", []fakeOption{serveBody(path, 200, strings.ReplaceAll(preprint, "q7x2k", "zzzzz")), serveBody("/v2/files/6a1b2c3d4e5f6a7b8c9d0e1f/", 502, "")}, fulltext.CodeServerError},
		{"bad file link", []fakeOption{serveBody(path, 200, strings.Replace(strings.ReplaceAll(preprint, "q7x2k", "zzzzz"), "https://api.osf.io/v2/files/", "ftp://x/", 1))}, fulltext.CodeResolverError},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "osf", Config{}, Deps{}, c.opts...)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, -1)
		})
	}
	transportCases(t, "osf", Config{}, Deps{}, w, path)
}
