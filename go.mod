module github.com/oafetch/oafetch

go 1.26
