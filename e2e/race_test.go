//go:build race

package e2e

// raceEnabled reports whether the test binary runs under the race detector; the xferterm binary
// under test is then built with -race too, so races in the proxy surface here.
const raceEnabled = true
