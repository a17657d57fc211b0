package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/benchmeter"
)

// The benchmarks below stand for the figures of the speed targets: the whole
// command line (read, judge, render JSON to io.Discard) over the shared
// corpus and over a generated 100,000-object corpus, reporting objects per
// second and the peak live heap seen while they ran.

// speedCorpus returns the shared corpus directory, or skips.
func speedCorpus(b testing.TB) string {
	b.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		b.Skipf("corpus not available: %v", err)
	}
	return dir
}

// speedGenerated writes n objects in files of 250: workloads of every
// pod-bearing kind, half of them hardened, Services, ConfigMaps, Ingresses on
// a removed API (extensions/v1beta1) and CronJobs on batch/v1beta1, so both
// audit and upgrade have work to do.
func speedGenerated(b testing.TB, n int) string {
	b.Helper()
	dir := b.TempDir()
	kinds := []string{"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "Pod"}
	var buf bytes.Buffer
	for i, file := 0, 0; i < n; file++ {
		buf.Reset()
		for j := 0; j < 250 && i < n; j, i = j+1, i+1 {
			buf.WriteString("---\n")
			switch i % 5 {
			case 0, 1:
				buf.WriteString(speedWorkload(kinds[(i/5)%len(kinds)], i, i%2 == 0))
			case 2:
				fmt.Fprintf(&buf, "apiVersion: v1\nkind: Service\nmetadata: {name: svc-%d, namespace: shop}\nspec: {selector: {app: web-%d}, ports: [{port: 80, targetPort: 8080}]}\n", i, i)
			case 3:
				fmt.Fprintf(&buf, "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: ing-%d, namespace: shop}\nspec:\n  rules:\n    - host: app-%d.example.com\n      http:\n        paths:\n          - path: /\n            backend: {serviceName: svc-%d, servicePort: 80}\n", i, i, i)
			default:
				fmt.Fprintf(&buf, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: shop}\ndata: {level: info, id: \"%d\"}\n", i, i)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gen-%05d.yaml", file)), buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// speedWorkload renders one workload of the given kind, hardened or not.
func speedWorkload(kind string, i int, hardened bool) string {
	// pod is a pod spec's fields at indent 0.
	pod := ""
	if hardened {
		pod += "automountServiceAccountToken: false\nsecurityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n"
	}
	switch kind {
	case "Job", "CronJob":
		pod += "restartPolicy: OnFailure\n"
	}
	pod += "containers:\n  - name: app\n"
	if hardened {
		pod += "    image: registry.example.com/app@sha256:" + strings.Repeat("ab", 32) + "\n" +
			"    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}\n" +
			"    resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}\n" +
			"    readinessProbe: {httpGet: {path: /ready, port: 8080}}\n" +
			"    livenessProbe: {httpGet: {path: /live, port: 8080}}\n"
	} else {
		pod += "    image: registry.example.com/app:1.0\n"
	}
	indent := func(s string, n int) string {
		pad := strings.Repeat(" ", n)
		return pad + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+pad) + "\n"
	}
	// template is a pod template's fields at indent 0.
	template := fmt.Sprintf("metadata: {labels: {app: web-%d}}\nspec:\n", i) + indent(pod, 2)
	head := func(apiVersion string) string {
		return fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata: {name: web-%d, namespace: shop, labels: {app: web-%d}}\n", apiVersion, kind, i, i)
	}
	sel := fmt.Sprintf("  selector: {matchLabels: {app: web-%d}}\n", i)
	switch kind {
	case "Pod":
		return head("v1") + "spec:\n" + indent(pod, 2)
	case "Job":
		return head("batch/v1") + "spec:\n  template:\n" + indent(template, 4)
	case "CronJob":
		av := "batch/v1"
		if i%10 == 0 {
			av = "batch/v1beta1"
		}
		return head(av) + "spec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n" + indent(template, 8)
	case "StatefulSet":
		return head("apps/v1") + "spec:\n  serviceName: svc\n  replicas: 2\n" + sel + "  template:\n" + indent(template, 4)
	default:
		return head("apps/v1") + "spec:\n" + sel + "  template:\n" + indent(template, 4)
	}
}

// speedRun runs one command line with a JSON report and decodes it.
func speedRun(tb testing.TB, args ...string) speedReport {
	tb.Helper()
	args = append(args, "-o", "json", "--fail-on", "none")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb}); code != ExitOK {
		tb.Fatalf("shipshape %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	var r speedReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		tb.Fatalf("shipshape %s: report: %v", strings.Join(args, " "), err)
	}
	return r
}

// speedReport is the part of a JSON report the speed tests look at.
type speedReport struct {
	Findings []struct {
		Check   string `json:"check"`
		Message string `json:"message"`
	} `json:"findings"`
	Summary struct {
		Objects int `json:"objects"`
	} `json:"summary"`
}

// benchCommand runs one shipshape command line per iteration with its report
// written as JSON to io.Discard, and reports objects/s and peak heap.
func benchCommand(b *testing.B, args ...string) {
	// One run outside the timing checks the command line and counts objects.
	objects := speedRun(b, args...).Summary.Objects
	args = append(args, "-o", "json", "--fail-on", "none")
	streams := Streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}
	ctx := context.Background()
	runtime.GC()
	peak := benchmeter.PeakHeap()
	b.ResetTimer()
	for b.Loop() {
		if code := Main(ctx, args, streams); code != ExitOK {
			b.Fatalf("exit %d", code)
		}
	}
	b.StopTimer()
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(objects)/sec, "objects/s")
	b.ReportMetric(peak()/(1<<20), "peak-heap-MB")
}

func BenchmarkScanCorpus(b *testing.B) {
	benchCommand(b, "scan", "-f", speedCorpus(b))
}

func BenchmarkAuditCorpus(b *testing.B) {
	benchCommand(b, "audit", "-f", speedCorpus(b))
}

func BenchmarkUpgradeCorpus(b *testing.B) {
	benchCommand(b, "upgrade", "--target-version", "1.37", "-f", speedCorpus(b))
}

func BenchmarkScanGenerated100k(b *testing.B) {
	benchCommand(b, "scan", "-f", speedGenerated(b, 100_000))
}

func BenchmarkAuditGenerated100k(b *testing.B) {
	benchCommand(b, "audit", "-f", speedGenerated(b, 100_000))
}

func BenchmarkUpgradeGenerated100k(b *testing.B) {
	benchCommand(b, "upgrade", "--target-version", "1.37", "-f", speedGenerated(b, 100_000))
}

// TestSpeedGenerated checks the generator behind the 100k benchmarks: every
// object is read and valid, and both audit and upgrade checks find something.
func TestSpeedGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and scans 1,000 objects")
	}
	r := speedRun(t, "scan", "-f", speedGenerated(t, 1000))
	if r.Summary.Objects != 1000 {
		t.Errorf("read %d objects, want 1000", r.Summary.Objects)
	}
	groups := map[string]int{}
	for _, f := range r.Findings {
		g := strings.SplitN(f.Check, "/", 2)[0]
		if g == "input" && groups[g] < 3 {
			t.Log(f.Message)
		}
		groups[g]++
	}
	for _, g := range []string{"audit", "upgrade"} {
		if groups[g] == 0 {
			t.Errorf("no %s findings; findings by group: %v", g, groups)
		}
	}
	if groups["input"] != 0 {
		t.Errorf("%d documents could not be read", groups["input"])
	}
}
