//go:build !race

package fs_test

// raceEnabled lets slow tests shrink under the race detector.
const raceEnabled = false
