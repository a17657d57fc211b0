package fix

import (
	"os"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/yamledit"
)

// TestFileGolden fixes a file with comments, flow style, several kinds and
// fields set by hand, and compares the result, its diff and its change list
// with golden files.
func TestFileGolden(t *testing.T) {
	src, err := os.ReadFile("testdata/before.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := File("testdata/before.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "after.yaml", res.After)
	golden.Check(t, "before.diff", []byte(yamledit.Diff("testdata/before.yaml", src, res.After)))
	golden.Check(t, "changes.txt", []byte(strings.Join(res.Summary(), "\n")+"\n"))

	after := string(res.After)
	for _, keep := range []string{"# The storefront web tier. Keep this comment.", "# flow style stays flow style", "# pinned",
		"# it reads ConfigMaps", "# runs as the image's user 101", "automountServiceAccountToken: true", "readOnlyRootFilesystem: false", "privileged: true"} {
		if !strings.Contains(after, keep) {
			t.Errorf("fixed file lost %q", keep)
		}
	}
	// Fixing a fixed file changes nothing.
	again, err := File("testdata/after.yaml", res.After)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() {
		t.Errorf("second fix changed the file:\n%s", yamledit.Diff("after.yaml", res.After, again.After))
	}
}

func TestFileBadYAML(t *testing.T) {
	_, err := File("bad.yaml", []byte("kind: Deployment\nspec: [\n"))
	if err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("error = %v, want one naming the file", err)
	}
}
