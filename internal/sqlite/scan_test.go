package sqlite

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// TestDecodeWork: what encodeWork stores decodes to what json.Unmarshal
// gives, through the fast path for plain works and through json.Unmarshal
// for the rest.
func TestDecodeWork(t *testing.T) {
	t.Parallel()
	doi := fulltext.WorkID{Kind: fulltext.KindDOI, Value: "10.5555/x.1"}
	for _, tc := range []struct {
		name string
		work fulltext.Work
		fast bool
	}{
		{"id only", fulltext.Work{ID: doi}, true},
		{"ids", fulltext.Work{ID: doi, IDs: fulltext.IDs{DOI: doi.Value, PMID: "1", PMCID: "PMC2", ArXiv: "1905.99123", OpenAlex: "W3"}}, true},
		{"title and year", fulltext.Work{ID: doi, IDs: fulltext.IDs{DOI: doi.Value}, Title: "Über die Natur: ein Versuch", Year: 2024}, true},
		{"negative year", fulltext.Work{ID: doi, Year: -44}, true},
		{"year only", fulltext.Work{ID: doi, Year: 1999}, true},
		{"quote in title", fulltext.Work{ID: doi, Title: `The "best" paper`}, false},
		{"html in title", fulltext.Work{ID: doi, Title: "A <b>bold</b> & brave claim"}, false},
		{"control character", fulltext.Work{ID: doi, Title: "tab\there"}, false},
		{"invalid utf-8", fulltext.Work{ID: doi, Title: "bad \xff byte"}, false},
		{"escape in id", fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindDOI, Value: `10.5555/a\b`}}, false},
		{"zero", fulltext.Work{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _, err := encodeWork(tc.work)
			if err != nil {
				t.Fatal(err)
			}
			var want fulltext.Work
			if err := json.Unmarshal([]byte(s), &want); err != nil {
				t.Fatal(err)
			}
			var fast fulltext.Work
			if got := fastWork(s, &fast); got != tc.fast {
				t.Errorf("fast path %v for %s, want %v", got, s, tc.fast)
			}
			got := fulltext.Work{Title: "left over"}
			if err := decodeWork(s, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decodeWork(%s) = %+v, want %+v", s, got, want)
			}
		})
	}
	// Texts json.Marshal never writes take the slow path, errors included.
	for _, s := range []string{
		`{"id":{"Kind":"doi","Value":"10.5555/x"},"ids":{},"title":"t","extra":1}`,
		`{"id":{"Kind":"doi","Value":"10.5555/x"},"ids":{"mag":"1"}}`,
		`{"ids":{},"id":{"Kind":"doi","Value":"10.5555/x"}}`,
		`{"id":{"Kind":"doi","Value":"10.5555/x"},"ids":{},"year":1e3}`,
		`{"id":{"Kind":"doi","Value":"10.5555/x"},"ids":{}} `,
		`{"id":{"Kind":"doi","Value":"10.5555/x"},"ids":{}`,
		`{"id":{"Kind":"doi","Value":"10.5555/x`,
	} {
		var w fulltext.Work
		if fastWork(s, &w) {
			t.Errorf("fast path for %s", s)
		}
		var want fulltext.Work
		wantErr := json.Unmarshal([]byte(s), &want)
		got := fulltext.Work{}
		err := decodeWork(s, &got)
		if (err != nil) != (wantErr != nil) || err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("decodeWork(%s) = %+v, %v; want %+v, %v", s, got, err, want, wantErr)
		}
	}
}
