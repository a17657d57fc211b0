package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// corpusDir returns ../shared/NAME relative to the repository root, or skips
// the test when it is absent. The corpus is never copied into the repository.
func corpusDir(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Skip(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no repository root")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", name)
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		tb.Skipf("corpus %s not present", name)
	}
	return d
}

// TestCorpus audits the shared corpus and the malformed corpus in one run:
// it completes, every malformed file is a finding with its path and line,
// and the counts per check are kept in a golden file for the closing note.
func TestCorpus(t *testing.T) {
	good, bad := corpusDir(t, "corpus"), corpusDir(t, "corpus-malformed")
	snap, err := manifest.Read(context.Background(), []string{good, bad}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := finding.Evaluate(context.Background(), snap, audit.Checks())
	if !r.Partial {
		t.Error("report over malformed files is not partial")
	}
	for _, w := range r.Warnings {
		if strings.Contains(w.Message, "check failed") {
			t.Errorf("check failed on the corpus: %s: %s", w.Source, w.Message)
		}
	}
	invalidFiles := map[string]bool{}
	for _, f := range r.Findings {
		if f.Check != finding.InvalidDocumentCheck {
			continue
		}
		if f.Location == nil || f.Location.Line < 1 {
			t.Errorf("invalid-document finding without a line: %+v", f)
			continue
		}
		invalidFiles[f.Location.Path] = true
	}
	err = filepath.WalkDir(bad, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".json")) {
			return err
		}
		if !invalidFiles[p] {
			t.Errorf("malformed file %s has no %s finding", p, finding.InvalidDocumentCheck)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	counts := map[string]int{}
	objects := map[string]map[string]bool{}
	for _, f := range r.Findings {
		counts[f.Check]++
		if f.Object != nil {
			if objects[f.Check] == nil {
				objects[f.Check] = map[string]bool{}
			}
			objects[f.Check][f.Where()] = true
		}
	}
	var ids []string
	for id := range counts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b bytes.Buffer
	fmt.Fprintf(&b, "objects %d, findings %d\n", r.Summary.Objects, len(r.Findings))
	for _, id := range ids {
		fmt.Fprintf(&b, "%-34s %6d findings %6d objects\n", id, counts[id], len(objects[id]))
	}
	golden.Check(t, "corpus-counts.golden", b.Bytes())
}

// generated writes n objects in files of 250 objects: workloads of every
// pod-bearing kind, hardened and not, with Services, ConfigMaps and PDBs.
func generated(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	kinds := []string{"Deployment", "StatefulSet", "DaemonSet", "Pod", "CronJob", "Job"}
	var buf bytes.Buffer
	for i := 0; i < n; {
		buf.Reset()
		for j := 0; j < 250 && i < n; j++ {
			s := hardened()
			s.kind = kinds[i%len(kinds)]
			s.withPDB = false
			if i%2 == 1 {
				s.ctrSC = "{}"
				s.podSC = "{}"
				s.pod = ""
				s.probes = ""
				s.resources = "{}"
			}
			doc := strings.Replace(s.yaml(), "name: web\n", fmt.Sprintf("name: web-%d\n", i), 1)
			switch i % 4 {
			case 0, 1:
				buf.WriteString("---\n" + doc)
			case 2:
				fmt.Fprintf(&buf, "---\napiVersion: v1\nkind: Service\nmetadata: {name: svc-%d, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n", i)
			default:
				fmt.Fprintf(&buf, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: shop}\ndata: {a: b}\n", i)
			}
			i++
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gen-%06d.yaml", i)), buf.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func benchmarkAudit(b *testing.B, paths []string, parse bool) {
	ctx := context.Background()
	snap, err := manifest.Read(ctx, paths, manifest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	checks := audit.Checks()
	findings := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s := snap
		if parse {
			if s, err = manifest.Read(ctx, paths, manifest.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		findings = len(finding.Evaluate(ctx, s, checks).Findings)
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(len(snap.Objects))/sec, "objects/s")
	b.ReportMetric(float64(findings), "findings")
}

func BenchmarkAuditCorpus(b *testing.B) {
	benchmarkAudit(b, []string{corpusDir(b, "corpus")}, false)
}

func BenchmarkAuditCorpusWithParsing(b *testing.B) {
	benchmarkAudit(b, []string{corpusDir(b, "corpus")}, true)
}

func BenchmarkAuditGenerated100k(b *testing.B) {
	benchmarkAudit(b, []string{generated(b, 100_000)}, false)
}

func BenchmarkAuditGenerated100kWithParsing(b *testing.B) {
	benchmarkAudit(b, []string{generated(b, 100_000)}, true)
}

// TestGeneratedCorpus checks the generator: every object is read and the
// unhardened half is reported.
func TestGeneratedCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2,000 objects")
	}
	snap, err := manifest.Read(context.Background(), []string{generated(t, 2000)}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Objects) != 2000 || len(snap.Invalid) != 0 {
		t.Fatalf("read %d objects, %d invalid", len(snap.Objects), len(snap.Invalid))
	}
	r := finding.Evaluate(context.Background(), snap, audit.Checks())
	byObj := map[string]bool{}
	for _, f := range r.Findings {
		if f.Check == audit.PrivilegeEscalationCheck {
			byObj[f.Object.Name] = true
		}
	}
	if len(byObj) != 500 { // objects 1, 5, 9, ...: odd (unhardened) workloads
		t.Errorf("%d workloads without allowPrivilegeEscalation: false, want 500", len(byObj))
	}
	_ = snapshot.SourceFiles
}
