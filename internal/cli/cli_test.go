package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shipshape-dev/shipshape/internal/cluster"
)

func testStreams(stdin string) (Streams, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb}, &out, &errb
}

// TestScanFlags checks flag parsing alone, with scanRun replaced.
func TestScanFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want ScanOptions
	}{
		{"defaults", nil, ScanOptions{Globals: &Globals{Output: "table", FailOn: "high"}, MaxFileSize: "256Mi", MaxDocumentSize: "64Mi", MaxBackupAge: 26 * time.Hour}},
		{"kubectl flags", []string{"--kubeconfig", "k", "--context", "c", "-n", "shop", "-o", "json", "--fail-on", "medium"},
			ScanOptions{Globals: &Globals{Output: "json", FailOn: "medium",
				Cluster: cluster.ConfigFlags{Kubeconfig: "k", Context: "c", Namespace: "shop"}}, MaxFileSize: "256Mi", MaxDocumentSize: "64Mi", MaxBackupAge: 26 * time.Hour}},
		{"all namespaces", []string{"-A"},
			ScanOptions{Globals: &Globals{Output: "table", FailOn: "high", Cluster: cluster.ConfigFlags{AllNamespaces: true}}, MaxFileSize: "256Mi", MaxDocumentSize: "64Mi", MaxBackupAge: 26 * time.Hour}},
		{"files", []string{"-f", "a.yaml", "-f", "dir", "--filename", "-", "--check", "inventory,input/invalid-document", "--max-file-size", "1Gi"},
			ScanOptions{Globals: &Globals{Output: "table", FailOn: "high"},
				Filenames: []string{"a.yaml", "dir", "-"}, Checks: []string{"inventory", "input/invalid-document"},
				MaxFileSize: "1Gi", MaxDocumentSize: "64Mi", MaxBackupAge: 26 * time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams, _, _ := testStreams("")
			var got *ScanOptions
			root := newRootCmd(streams, runners{scan: func(_ context.Context, o *ScanOptions) error { got = o; return nil }})
			root.SetArgs(append([]string{"scan"}, tc.args...))
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("run function not called")
			}
			if diff := cmp.Diff(tc.want, *got, cmpopts.IgnoreFields(Globals{}, "Streams")); diff != "" {
				t.Errorf("options (-want +got)\n%s", diff)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain error", errors.New("connect to https://x: refused"), ExitError},
		{"usage", usagef("bad"), ExitUsage},
		{"wrapped usage", fmt.Errorf("scan: %w", usagef("bad")), ExitUsage},
		{"threshold", &thresholdError{count: 2}, ExitFindings},
		{"cobra unknown flag", errors.New("unknown flag: --nope"), ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExitCode(tc.err); got != tc.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestMainUsageErrors runs whole command lines through Main.
func TestMainUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown command", []string{"nosuchverb"}, `unknown command "nosuchverb"`},
		{"unknown flag", []string{"scan", "--nope"}, "unknown flag: --nope"},
		{"bad output", []string{"scan", "-f", "x.yaml", "-o", "xml"}, "-o:"},
		{"bad fail-on", []string{"scan", "-f", "x.yaml", "--fail-on", "severe"}, "--fail-on:"},
		{"namespace with files", []string{"scan", "-f", "testdata/scan/clean.yaml", "-n", "x"}, "do not apply to -f"},
		{"unknown check", []string{"scan", "-f", "testdata/scan/clean.yaml", "--check", "nope"}, `--check "nope"`},
		{"args to scan", []string{"scan", "extra"}, "takes no arguments"},
		{"bad size", []string{"scan", "-f", "testdata/scan/clean.yaml", "--max-file-size", "big"}, "--max-file-size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams, out, errb := testStreams("")
			code := Main(context.Background(), tc.args, streams)
			if code != ExitUsage {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, ExitUsage, errb)
			}
			if !strings.Contains(errb.String(), tc.wantErr) {
				t.Errorf("stderr %q does not mention %q", errb, tc.wantErr)
			}
			if out.Len() != 0 {
				t.Errorf("stdout not empty on a usage error: %q", out)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	streams, out, _ := testStreams("")
	if code := Main(context.Background(), []string{"version", "-o", "json"}, streams); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, key := range []string{`"version"`, `"goVersion"`, `"platform"`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("version -o json lacks %s: %s", key, out)
		}
	}
}

func TestCompletion(t *testing.T) {
	streams, out, _ := testStreams("")
	if code := Main(context.Background(), []string{"completion", "bash"}, streams); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "__start_shipshape") {
		t.Errorf("bash completion script does not define __start_shipshape")
	}
}

func TestNoKubeconfigIsAnError(t *testing.T) {
	t.Setenv("KUBECONFIG", t.TempDir()+"/missing")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	streams, _, errb := testStreams("")
	code := Main(context.Background(), []string{"scan"}, streams)
	if code != ExitError {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitError, errb)
	}
	if !strings.Contains(errb.String(), "error:") {
		t.Errorf("stderr %q has no error line", errb)
	}
}

// TestContextCompletion asks cobra's completion entry point for --context
// values, as a shell would.
func TestContextCompletion(t *testing.T) {
	kubeconfig := t.TempDir() + "/config"
	conf := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts:
- {name: staging, context: {cluster: c, user: u}}
- {name: prod, context: {cluster: c, user: u}}
current-context: prod
`
	if err := os.WriteFile(kubeconfig, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	streams, out, errb := testStreams("")
	code := Main(context.Background(), []string{"__complete", "scan", "--kubeconfig", kubeconfig, "--context", ""}, streams)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if diff := cmp.Diff([]string{"prod", "staging", ":4"}, lines); diff != "" {
		t.Errorf("completion (-want +got)\n%s", diff)
	}
}
