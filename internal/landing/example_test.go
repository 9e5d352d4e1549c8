package landing_test

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/oafetch/oafetch/internal/landing"
)

func ExampleExtract() {
	page := []byte(`<html><head>
<meta name="citation_doi" content="10.5555/x.1">
<meta name="citation_pdf_url" content="/x.1/pdf">
</head><body><a href="/other/10.5555/y.2/pdf">PDF of another article</a></body></html>`)
	r := landing.Extract("https://pub.example/article/x.1", http.StatusOK, nil, page, landing.Hint{DOI: "10.5555/x.1"})
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	fmt.Println(r.Code())
	// Output:
	// {"verdict":"article","links":[{"url":"https://pub.example/x.1/pdf","kind":"pdf","technique":"citation_pdf_url","score":0.94}],"identity":{"doi":"10.5555/x.1"}}
	// no-pdf-link
}

func ExampleClassify() {
	h := http.Header{"Cf-Mitigated": {"challenge"}}
	v := landing.Classify(http.StatusForbidden, h, []byte("<title>Just a moment...</title>"))
	fmt.Println(v, v.Code())
	// Output: challenge blocked-challenge
}
