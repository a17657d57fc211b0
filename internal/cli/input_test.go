package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanChart renders the example chart through scan --chart: its objects
// are read with their templates as origins, and its secret value never shows.
func TestScanChart(t *testing.T) {
	chart := filepath.Join("..", "..", "examples", "charts", "notifier")
	streams, out, errb := testStreams("")
	code := Main(context.Background(), []string{"scan", "--chart", chart, "--set", "smtp.password=n0t-to-be-seen",
		"--check", "inventory/objects,audit/secret-env", "-o", "json", "--fail-on", "none"}, streams)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errb)
	}
	if strings.Contains(out.String(), "n0t-to-be-seen") {
		t.Fatal("scan printed the chart's secret value")
	}
	var r struct {
		Summary struct{ Objects int }
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Summary.Objects != 3 {
		t.Errorf("objects = %d, want the chart's Deployment, Service and Secret", r.Summary.Objects)
	}
}

func TestInputUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"scan", "--chart", "x", "-A"},
		{"scan", "--values", "v.yaml", "-f", "x.yaml"},
		{"upgrade", "--set", "a=b"},
		{"audit", "--chart", "x", "-o", "nope"},
	} {
		streams, _, errb := testStreams("")
		if code := Main(context.Background(), args, streams); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, ExitUsage, errb)
		}
	}
}
