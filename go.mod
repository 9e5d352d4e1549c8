module github.com/oafetch/oafetch

go 1.26.0

require (
	github.com/temoto/robotstxt v1.1.2
	go.uber.org/goleak v1.3.0
	golang.org/x/time v0.16.0
)
