//go:build !race

package main

// raceEnabled scales the largest query test down under the race detector.
const raceEnabled = false
