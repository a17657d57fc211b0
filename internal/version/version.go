// Package version says which build of shipshape is running.
//
// The version comes from the linker (-ldflags "-X .../internal/version.version=v1.2.3")
// when set, and otherwise from the module information `go install` records.
package version

import (
	"runtime"
	"runtime/debug"
)

// version is set by the linker for release builds. It is the one
// package-level variable the linker needs; nothing writes it at run time.
var version string

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the running binary's version information.
func Get() Info {
	info := Info{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				info.Commit = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	return info
}
