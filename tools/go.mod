module github.com/oafetch/oafetch/tools

go 1.26
