package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpgradeGolden runs whole `shipshape upgrade` command lines over files
// and a chart directory.
func TestUpgradeGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"files-1.37.table", []string{"upgrade", "-f", "../upgrade/testdata/files", "--target-version", "1.37"}, ExitFindings},
		{"files-1.21.json", []string{"upgrade", "-f", "../upgrade/testdata/files", "--target-version", "v1.21.3", "-o", "json"}, ExitOK},
		{"chart.table", []string{"upgrade", "--chart", "../upgrade/testdata/charts/legacy", "--fail-on", "none"}, ExitOK},
		{"chart-set.table", []string{"upgrade", "--chart", "../upgrade/testdata/charts/legacy", "--set", "ingress.enabled=false", "--fail-on", "critical"}, ExitOK},
		{"scan-check-upgrade.table", []string{"scan", "-f", "../upgrade/testdata/files", "--check", "upgrade", "--fail-on", "none"}, ExitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams, out, errb := testStreams("")
			code := Main(context.Background(), tc.args, streams)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tc.wantCode, errb)
			}
			checkGolden(t, filepath.Join("upgrade", tc.name+".golden"), out.String())
		})
	}
}

func TestUpgradeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"upgrade", "-f", "../upgrade/testdata/files", "--target-version", "2.0"},
		{"upgrade", "-f", "../upgrade/testdata/files", "--values", "v.yaml"},
		{"upgrade", "fix"},
		{"upgrade", "fix", "--target-version", "latest", "x.yaml"},
	} {
		streams, _, errb := testStreams("")
		if code := Main(context.Background(), args, streams); code != ExitUsage {
			t.Errorf("%q: exit %d, want %d; stderr %s", args, code, ExitUsage, errb)
		}
	}
}

// TestUpgradeFix: --dry-run prints the diff and writes nothing; without it
// the file is rewritten to the converted version; objects that need a person
// make the exit code 3 and are named on the output.
func TestUpgradeFix(t *testing.T) {
	dir := t.TempDir()
	before, err := os.ReadFile("../upgrade/testdata/fix/ingress-extensions.before.yaml")
	if err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile("../upgrade/testdata/fix/ingress-extensions.after.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ingress.yaml")
	if err := os.WriteFile(path, before, 0o640); err != nil {
		t.Fatal(err)
	}

	streams, out, errb := testStreams("")
	if code := Main(context.Background(), []string{"upgrade", "fix", "--dry-run", dir}, streams); code != ExitOK {
		t.Fatalf("dry run: exit %d; stderr %s", code, errb)
	}
	diff := strings.ReplaceAll(out.String(), dir, "DIR")
	checkGolden(t, filepath.Join("upgrade", "fix-dry-run.diff.golden"), diff)
	if !strings.Contains(errb.String(), "converted ") {
		t.Errorf("stderr does not list the conversion: %s", errb)
	}
	if got, _ := os.ReadFile(path); string(got) != string(before) {
		t.Fatal("--dry-run changed the file")
	}

	streams, out, errb = testStreams("")
	if code := Main(context.Background(), []string{"upgrade", "fix", path}, streams); code != ExitOK {
		t.Fatalf("fix: exit %d; stderr %s", code, errb)
	}
	if got, _ := os.ReadFile(path); string(got) != string(after) {
		t.Errorf("fixed file differs from the after fixture:\n%s", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("file mode not kept: %v %v", fi.Mode(), err)
	}
	if !strings.Contains(out.String(), "converted "+path+":2 Ingress/storefront: extensions/v1beta1 -> networking.k8s.io/v1") {
		t.Errorf("output does not list the conversion:\n%s", out)
	}

	streams, out, errb = testStreams("")
	code := Main(context.Background(), []string{"upgrade", "fix", "--dry-run", "../upgrade/testdata/fix/manual.before.yaml"}, streams)
	if code != ExitFindings {
		t.Errorf("manual objects: exit %d, want %d", code, ExitFindings)
	}
	if out.Len() != 0 || strings.Count(errb.String(), "manual ") != 3 {
		t.Errorf("want no diff and three manual lines, got stdout %q stderr %q", out, errb)
	}
}
