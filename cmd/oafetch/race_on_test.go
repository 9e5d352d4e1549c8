//go:build race

package main

// raceEnabled scales the largest query test down under the race detector
// (the pure-Go SQLite runs some ten times slower there).
const raceEnabled = true
