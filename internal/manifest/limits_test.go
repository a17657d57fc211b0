package manifest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// aliasBomb returns a document whose aliases expand to 9^levels values.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\n")
	b.WriteString(`a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	for i := 1; i < levels; i++ {
		p := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.Repeat(p+",", 8)+p)
	}
	return b.String()
}

func TestAliasBomb(t *testing.T) {
	tests := []struct {
		name   string
		levels int
		opts   Options
		ok     bool
	}{
		{name: "billion laughs", levels: 10},
		{name: "small expansion within the budget", levels: 3, ok: true},
		{name: "small expansion over a tight budget", levels: 4, opts: Options{AliasBudget: 100, AliasRatio: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := aliasBomb(tt.levels) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n"
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			objects, invalid, err := NewDecoder(tt.opts).Decode(context.Background(), strings.NewReader(in), "bomb.yaml")
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("decoding allocated %d MiB, want under 64 MiB", grew>>20)
			}
			if tt.ok {
				if len(invalid) > 0 || len(objects) != 2 {
					t.Errorf("got %d objects and %v, want 2 objects", len(objects), invalid)
				}
				return
			}
			if len(objects) != 1 || objects[0].GetName() != "after" {
				t.Errorf("got %d objects, want only the document after the bomb", len(objects))
			}
			if len(invalid) != 1 {
				t.Fatalf("got %d invalid entries, want 1: %v", len(invalid), invalid)
			}
			inv := invalid[0]
			t.Logf("%s: %s", inv.Origin, inv.Reason)
			if !strings.HasPrefix(inv.Reason, "document expands aliases beyond the limit of ") {
				t.Errorf("reason = %q, want the alias limit", inv.Reason)
			}
			if inv.Origin.Line < 5 || inv.Origin.Document != 0 {
				t.Errorf("origin = %+v, want document 0 at an alias line", inv.Origin)
			}
		})
	}
}

// TestReadLargeFile reads a 50 MB file of many documents.
func TestReadLargeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "large.yaml")
	n := writeGenerated(t, path, 50<<20, 0)
	snap, err := Read(context.Background(), []string{path}, Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(snap.Invalid) > 0 {
		t.Errorf("%d invalid documents, first: %v", len(snap.Invalid), snap.Invalid[0])
	}
	if len(snap.Objects) != n {
		t.Errorf("read %d objects, want %d", len(snap.Objects), n)
	}
	last := snap.Objects[len(snap.Objects)-1]
	if last.Origin.Document != n-1 {
		t.Errorf("last object is document %d, want %d", last.Origin.Document, n-1)
	}
}

// writeGenerated writes documents of mixed kinds to path until it holds at
// least size bytes, numbering objects from first, and returns how many it wrote.
func writeGenerated(tb testing.TB, path string, size int64, first int) int {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	var written int64
	n := 0
	for written < size {
		k, err := w.WriteString(generated(first + n))
		if err != nil {
			tb.Fatal(err)
		}
		written += int64(k)
		n++
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// generated returns the i-th generated document: a Deployment, a Service or
// a ConfigMap.
func generated(i int) string {
	switch i % 3 {
	case 0:
		return fmt.Sprintf(`---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%[1]d
  namespace: ns-%[2]d
  labels:
    app.kubernetes.io/name: app-%[1]d
    app.kubernetes.io/part-of: shop
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: app-%[1]d
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-%[1]d
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.%[2]d.0
        args: ["--port=8080", "--log-level=info"]
        ports:
        - name: http
          containerPort: 8080
        env:
        - name: HOME_URL
          value: "https://example.com/${PATH}"
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {cpu: "1", memory: 256Mi}
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 10
        securityContext:
          runAsNonRoot: true
          allowPrivilegeEscalation: false
`, i, i%50)
	case 1:
		return fmt.Sprintf(`---
apiVersion: v1
kind: Service
metadata:
  name: app-%[1]d
  namespace: ns-%[2]d
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: app-%[1]d
  ports:
  - name: http
    port: 80
    targetPort: http
`, i, i%50)
	default:
		return fmt.Sprintf(`---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-%[1]d
  namespace: ns-%[2]d
data:
  config.yaml: |
    listen: :8080
    upstream: http://app-%[1]d.ns-%[2]d.svc:80
    retries: 3
  LOG_LEVEL: info
`, i, i%50)
	}
}
