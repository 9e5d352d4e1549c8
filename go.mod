module github.com/oafetch/oafetch

go 1.26

require (
	github.com/PuerkitoBio/goquery v1.13.0
	golang.org/x/net v0.58.0
)

require (
	github.com/andybalholm/cascadia v1.3.4 // indirect
	golang.org/x/text v0.41.0 // indirect
)
