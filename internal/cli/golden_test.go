package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/golden"
)

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got string) {
	t.Helper()
	golden.Check(t, name, []byte(got))
}

// TestScanFilesGolden runs whole `shipshape scan -f` command lines.
func TestScanFilesGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
	}{
		{"clean.json", []string{"scan", "-f", "testdata/scan/clean.yaml", "-o", "json"}, "", ExitOK},
		{"broken.table", []string{"scan", "-f", "testdata/scan/broken.yaml"}, "", ExitFindings},
		{"broken.json", []string{"scan", "-f", "testdata/scan/broken.yaml", "-o", "json"}, "", ExitFindings},
		{"broken-fail-critical.junit", []string{"scan", "-f", "testdata/scan/broken.yaml", "-o", "junit", "--fail-on", "critical"}, "", ExitOK},
		{"dir.markdown", []string{"scan", "-f", "testdata/scan", "-o", "markdown", "--fail-on", "none"}, "", ExitOK},
		{"stdin.yaml", []string{"scan", "-f", "-", "-o", "yaml", "--check", "inventory/objects"},
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b\n", ExitOK},
		{"checks.table", []string{"checks"}, "", ExitOK},
		{"checks-one.table", []string{"checks", "inventory/nodes"}, "", ExitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams, out, errb := testStreams(tc.stdin)
			code := Main(context.Background(), tc.args, streams)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tc.wantCode, errb)
			}
			if strings.Contains(errb.String(), "error:") {
				t.Errorf("stderr has an error: %s", errb)
			}
			checkGolden(t, strings.ReplaceAll(tc.name, "/", "_")+".golden", out.String())
		})
	}
}

// TestScanMissingPath: a named path that does not exist is an error (exit 1)
// that names the path, not a silent empty report.
func TestScanMissingPath(t *testing.T) {
	streams, out, errb := testStreams("")
	code := Main(context.Background(), []string{"scan", "-f", "testdata/scan/nope.yaml"}, streams)
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	if !strings.Contains(errb.String(), "nope.yaml") {
		t.Errorf("stderr %q does not name the path", errb)
	}
	if out.Len() != 0 {
		t.Errorf("stdout not empty: %q", out)
	}
}

// TestScanFileLimit: a file over --max-file-size is reported with its path and
// the scan goes on with the other files.
func TestScanFileLimit(t *testing.T) {
	streams, out, errb := testStreams("")
	code := Main(context.Background(), []string{"scan", "-f", "testdata/scan/clean.yaml", "-f", "testdata/scan/broken.yaml",
		"--max-file-size", "200", "-o", "json", "--fail-on", "none"}, streams)
	if code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, errb)
	}
	for _, want := range []string{`"path": "testdata/scan/broken.yaml"`, "--max-file-size", `"objects": 2`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}
