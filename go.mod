module github.com/oafetch/oafetch

go 1.26

require github.com/gabriel-vasile/mimetype v1.4.16

require go.uber.org/goleak v1.3.0
