package upgrade

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/golden"
)

// fixFixtures returns the names of the testdata/fix/<name>.before.yaml files.
func fixFixtures(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "fix", "*.before.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fix fixtures: %v", err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".before.yaml"))
	}
	return names
}

// TestFix converts each before file for 1.37 and compares the result with
// the after file, and what Fix reports with the .notes file. Every comment
// of the before file must survive.
func TestFix(t *testing.T) {
	for _, name := range fixFixtures(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "fix", name+".before.yaml")
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out, res, err := Fix(path, src, Version{37})
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("fix", name+".after.yaml"), out)
			var notes bytes.Buffer
			for _, n := range res.Converted {
				fmt.Fprintf(&notes, "converted line %d %s: %s -> %s: %s\n", n.Line, n.Object, n.From, n.To, n.Message)
			}
			for _, n := range res.Manual {
				fmt.Fprintf(&notes, "manual line %d %s (%s): %s\n", n.Line, n.Object, n.From, n.Message)
			}
			golden.Check(t, filepath.Join("fix", name+".notes"), notes.Bytes())
			for _, line := range strings.Split(string(src), "\n") {
				if i := strings.Index(line, "#"); i >= 0 && !strings.Contains(line[:i], `"`) {
					if c := strings.TrimSpace(line[i:]); !strings.Contains(string(out), c) {
						t.Errorf("comment lost: %q", c)
					}
				}
			}
			if len(res.Converted) == 0 && !bytes.Equal(out, src) {
				t.Error("nothing converted, yet the file changed")
			}
			// Converting the result again changes nothing.
			again, res2, err := Fix(path, out, Version{37})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, out) || len(res2.Converted) != 0 {
				t.Errorf("a second Fix changed the file again: %+v", res2.Converted)
			}
		})
	}
}
