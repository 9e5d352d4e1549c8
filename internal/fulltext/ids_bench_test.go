package fulltext

import "testing"

// BenchmarkParseID normalises identifiers in their common spellings; ns/op
// is per identifier.
func BenchmarkParseID(b *testing.B) {
	inputs := []string{
		"10.5555/jsim.2021.0042",
		"doi:10.5555/JSIM.2021.0042",
		"https://doi.org/10.5555/jsim.2021.0042",
		"https://doi.org/10.5555%2Fjsim.2021.0042",
		"pmid:39990001",
		"PMC9990001",
		"arXiv:1905.99123v2",
		"https://openalex.org/W9990000001",
	}
	i := 0
	for b.Loop() {
		if _, err := ParseID(inputs[i%len(inputs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkParseWorkKey is one input line to a planned work with its
// idempotency key, as the planner does for every line.
func BenchmarkParseWorkKey(b *testing.B) {
	for b.Loop() {
		w, err := ParseWork("https://doi.org/10.5555/jsim.2021.0042")
		if err != nil {
			b.Fatal(err)
		}
		_ = w.Key()
	}
}

// BenchmarkParseOpenAlexWork parses one OpenAlex work object line.
func BenchmarkParseOpenAlexWork(b *testing.B) {
	line := `{"id":"https://openalex.org/W9990000001","doi":"https://doi.org/10.5555/jsim.2021.0042","title":"Adaptive Sampling","publication_year":2021,"ids":{"openalex":"https://openalex.org/W9990000001","doi":"https://doi.org/10.5555/jsim.2021.0042","pmid":"https://pubmed.ncbi.nlm.nih.gov/39990001","pmcid":"https://www.ncbi.nlm.nih.gov/pmc/articles/9990001"},"best_oa_location":{"is_oa":true,"pdf_url":"https://repo.example.edu/1.pdf"}}`
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := ParseWork(line); err != nil {
			b.Fatal(err)
		}
	}
}
