package version_test

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/xferterm/xferterm/internal/version"
)

func TestFromBuildInfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"a tagged release", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "06b03e6d8c1f5e2a9b7c3d4e5f60718293a4b5c6"}, {Key: "vcs.modified", Value: "false"}}},
			"xferterm v1.2.0 (commit 06b03e6d8c1f) go1.26.8"},
		{"a work tree with changes", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261203134701-06b03e6d8c1f+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "06b03e6d8c1f5e2a9b7c3d4e5f60718293a4b5c6"}, {Key: "vcs.modified", Value: "true"}}},
			"xferterm v0.0.0-20261203134701-06b03e6d8c1f+dirty (commit 06b03e6d8c1f, modified) go1.26.8"},
		{"no version control", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"xferterm devel (commit unknown) go1.26.8"},
		{"nothing known", debug.BuildInfo{}, "xferterm devel (commit unknown) go unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := version.FromBuildInfo(&tc.bi).String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestReadKnowsTheGoRelease(t *testing.T) {
	if got := version.Read().Go; got != runtime.Version() {
		t.Errorf("Go = %q, want %q", got, runtime.Version())
	}
}
