package upgrade

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// benchRead reads dir and runs every upgrade check for 1.37, reporting files
// and objects per second.
func benchRead(b *testing.B, dir string) {
	ctx := context.Background()
	var files, objects int
	for b.Loop() {
		s, err := manifest.Read(ctx, []string{dir}, manifest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range Checks(Options{Target: Version{37}}) {
			if _, err := c.Run(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
		files, objects = countFiles(s), len(s.Objects)
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(files)/sec, "files/s")
	b.ReportMetric(float64(objects)/sec, "objects/s")
}

func countFiles(s *snapshot.Snapshot) int {
	seen := map[string]bool{}
	for _, o := range s.Objects {
		seen[o.Origin.Path] = true
	}
	for _, i := range s.Invalid {
		seen[i.Origin.Path] = true
	}
	return len(seen)
}

// BenchmarkCorpus: read ../shared/corpus (1,803 files) and judge it.
func BenchmarkCorpus(b *testing.B) { benchRead(b, corpusDir(b, "corpus")) }

// BenchmarkChecksCorpus: the upgrade checks alone over the read corpus.
func BenchmarkChecksCorpus(b *testing.B) {
	ctx := context.Background()
	s, err := manifest.Read(ctx, []string{corpusDir(b, "corpus")}, manifest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	checks := Checks(Options{Target: Version{37}})
	for b.Loop() {
		for _, c := range checks {
			if _, err := c.Run(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(s.Objects))/(b.Elapsed().Seconds()/float64(b.N)), "objects/s")
}

// BenchmarkGenerated100k: 1,000 files of 100 objects each, a fifth of them
// on removed APIs.
func BenchmarkGenerated100k(b *testing.B) {
	dir := b.TempDir()
	if err := WriteBenchCorpus(dir, 1000, 100); err != nil {
		b.Fatal(err)
	}
	benchRead(b, dir)
}

// WriteBenchCorpus writes files×perFile objects under dir: Deployments,
// Services, ConfigMaps, Ingresses (every fifth one extensions/v1beta1) and
// CronJobs (batch/v1beta1 every tenth).
func WriteBenchCorpus(dir string, files, perFile int) error {
	for f := range files {
		var sb strings.Builder
		for i := range perFile {
			n := f*perFile + i
			if i > 0 {
				sb.WriteString("---\n")
			}
			switch n % 5 {
			case 0:
				fmt.Fprintf(&sb, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-%d\n  labels: {app: app-%d}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: app-%d}\n  template:\n    metadata:\n      labels: {app: app-%d}\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/app:%d\n          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}\n", n, n, n, n, n)
			case 1:
				fmt.Fprintf(&sb, "apiVersion: v1\nkind: Service\nmetadata:\n  name: app-%d\nspec:\n  selector: {app: app-%d}\n  ports:\n    - port: 80\n      targetPort: 8080\n", n, n)
			case 2:
				fmt.Fprintf(&sb, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%d\ndata:\n  config.yaml: |\n    level: info\n    id: %d\n", n, n)
			case 3:
				fmt.Fprintf(&sb, "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: app-%d\nspec:\n  rules:\n    - host: app-%d.example.com\n      http:\n        paths:\n          - path: /\n            backend: {serviceName: app-%d, servicePort: 80}\n", n, n, n)
			case 4:
				av := "batch/v1"
				if n%10 == 4 {
					av = "batch/v1beta1"
				}
				fmt.Fprintf(&sb, "apiVersion: %s\nkind: CronJob\nmetadata:\n  name: job-%d\nspec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n            - name: job\n              image: busybox:1.36\n", av, n)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d.yaml", f)), []byte(sb.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
