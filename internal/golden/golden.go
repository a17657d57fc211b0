// Package golden compares test output with golden files under testdata/ and
// rewrites them when the tests run with -update:
//
//	go test ./... -update   # then review the diff of testdata/
//
// It is for tests only. Every test package in the module imports it (those
// without golden files through a blank import), so that -update is a known
// flag in each test binary and `go test ./... -update` runs everywhere.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update is the -update flag. A flag must be package state; only test
// binaries import this package.
var update = flag.Bool("update", false, "rewrite golden files in testdata/ instead of comparing with them")

// Check compares got with testdata/name, or writes it there with -update.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("output differs from %s (-want +got); rerun with -update if the change is intended:\n%s", path, diff)
	}
}
