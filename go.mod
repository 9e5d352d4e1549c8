module github.com/oafetch/oafetch

go 1.26.0

require (
	github.com/temoto/robotstxt v1.1.2
	golang.org/x/time v0.16.0
)

require github.com/stretchr/testify v1.8.0 // indirect
