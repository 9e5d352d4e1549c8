package download

import (
	"bytes"
	"testing"
)

func BenchmarkSniffKind(b *testing.B) {
	heads := [][]byte{
		[]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
		[]byte("\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!DOCTYPE article PUBLIC \"-//NLM//DTD JATS\"><article>"),
		[]byte("<!DOCTYPE html><html><head><title>Article</title></head><body>"),
	}
	for b.Loop() {
		for _, h := range heads {
			SniffKind(h, "application/octet-stream")
		}
	}
}

func BenchmarkValidatePDF(b *testing.B) {
	head := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
	tail := append(bytes.Repeat([]byte("0000000000 00000 n \n"), 50), "trailer\n<< /Size 9 /Root 1 0 R >>\nstartxref\n1234\n%%EOF\n"...)
	for b.Loop() {
		if err := ValidatePDF(head, tail, 100<<10); err != nil {
			b.Fatal(err)
		}
	}
}
