// Command apigen regenerates internal/upgrade/apis.json, shipshape's table of
// deprecated and removed Kubernetes APIs, from the prerelease-lifecycle
// markers of k8s.io/api versions in the Go module cache.
//
// Usage, from the repository root (download the versions first; apigen
// itself never downloads):
//
//	for m in $(seq 19 36); do go mod download k8s.io/api@v0.$m.0; done
//	go mod download k8s.io/api@v0.37.2
//	go run ./internal/upgrade/cmd/apigen -o internal/upgrade/apis.json
//
// When a new Kubernetes minor ships, add its k8s.io/api version to -versions
// (or the default list below) and run it again.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/upgrade/internal/apigen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "apigen:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("o", "internal/upgrade/apis.json", "the data file to write")
	versions := flag.String("versions", strings.Join(apigen.DefaultVersions(), ","), "k8s.io/api versions to read, comma-separated")
	flag.Parse()

	cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	mods, missing := apigen.Modules(strings.TrimSpace(string(cache)), strings.Split(*versions, ","))
	if len(missing) > 0 {
		return fmt.Errorf("not in the module cache (run go mod download k8s.io/api@VERSION): %s", strings.Join(missing, ", "))
	}
	data, err := apigen.Generate(mods)
	if err != nil {
		return err
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, *out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "apigen: wrote %s from %d module versions\n", filepath.Clean(*out), len(mods))
	return nil
}
