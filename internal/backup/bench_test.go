package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/sync/errgroup"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/shipshape-dev/shipshape/internal/benchmeter"
	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/gctune"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

const (
	benchNamespace  = "shipshape-backup-bench"
	benchConfigMaps = 35000
	benchSecrets    = 10000
	benchCronJobs   = 5000
	benchObjects    = benchConfigMaps + benchSecrets + benchCronJobs
)

// BenchmarkBackup compares a whole-cluster backup (discovery, paginated
// concurrent LIST of every resource, cleaning, encrypting 10,000 Secrets,
// writing one file per object, or one tarball) with bare paginated LISTs
// in the same run, on a sandbox seeded with 50,000 objects: of the same
// resources through client-go's dynamic client (bare-list-all), and of the
// three seeded kinds alone in protobuf (bare-list). create-files is the
// file system's floor for a directory backup; backup-again is a second
// backup of the unchanged cluster into the same directory.
//
//	go test ./internal/backup/ -run '^$' -bench Backup -benchtime 1x -count 5 | go run ./hack/cmd/benchmedian
//	SHIPSHAPE_BENCH_OUT=/dev/shm go test ./internal/backup/ -run '^$' -bench Backup -benchtime 1x -count 5
func BenchmarkBackup(b *testing.B) {
	env := sandboxtest.Get(b)
	start := time.Now()
	seedBenchBackup(b, env.Config())
	b.Logf("seeded in %v", time.Since(start).Round(time.Second))
	ctx := context.Background()

	// The trees written are removed when the whole benchmark ends, not after
	// each run: deleting 60,000 files just before the next run times the
	// file system's delayed work (a disk mounted with discard trims every
	// freed block) instead of the next run's. A nightly backup does not
	// follow a deletion of that size by seconds. settle flushes what earlier
	// runs left dirty before the timer starts. SHIPSHAPE_BENCH_OUT puts the
	// trees on another file system (a tmpfs, to take the disk out).
	keep := b.TempDir()
	if d := os.Getenv("SHIPSHAPE_BENCH_OUT"); d != "" {
		var err error
		if keep, err = os.MkdirTemp(d, "backup-bench-"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(keep) })
	}
	var trees atomic.Int64
	fresh := func(name string) string {
		return filepath.Join(keep, fmt.Sprint(trees.Add(1), "-", name))
	}
	settle := func() { syscall.Sync() }

	b.Run("bare-list", func(b *testing.B) {
		cfg := rest.CopyConfig(env.Config())
		cfg.ContentType = "application/vnd.kubernetes.protobuf"
		cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf"
		cfg.QPS, cfg.Burst = 50, 100
		cs := kubernetes.NewForConfigOrDie(cfg)
		peak := benchmeter.PeakHeap()
		cpu := cpuTime()
		for b.Loop() {
			n := 0
			for _, list := range []func(metav1.ListOptions) (metav1.ListMeta, int, error){
				func(o metav1.ListOptions) (metav1.ListMeta, int, error) {
					l, err := cs.CoreV1().ConfigMaps("").List(ctx, o)
					if err != nil {
						return metav1.ListMeta{}, 0, err
					}
					return l.ListMeta, len(l.Items), nil
				},
				func(o metav1.ListOptions) (metav1.ListMeta, int, error) {
					l, err := cs.CoreV1().Secrets("").List(ctx, o)
					if err != nil {
						return metav1.ListMeta{}, 0, err
					}
					return l.ListMeta, len(l.Items), nil
				},
				func(o metav1.ListOptions) (metav1.ListMeta, int, error) {
					l, err := cs.BatchV1().CronJobs("").List(ctx, o)
					if err != nil {
						return metav1.ListMeta{}, 0, err
					}
					return l.ListMeta, len(l.Items), nil
				},
			} {
				opts := metav1.ListOptions{Limit: 500}
				for {
					lm, k, err := list(opts)
					if err != nil {
						b.Fatal(err)
					}
					n += k
					if opts.Continue = lm.Continue; opts.Continue == "" {
						break
					}
				}
			}
			if n < benchObjects {
				b.Fatalf("listed %d objects, want at least %d", n, benchObjects)
			}
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
		b.ReportMetric(peak()/(1<<20), "peak-heap-MB")
		cpu(b)
	})

	// The same resources the backup reads: discovery, then every listable
	// resource the backup lists, paginated, 8 at a time, with client-go's
	// dynamic client (JSON, the one encoding every resource has).
	b.Run("bare-list-all", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			if n := bareListAll(b, env.Config()); n < benchObjects {
				b.Fatalf("listed %d objects, want at least %d", n, benchObjects)
			}
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
		cpu(b)
	})

	// The file system's share: creating as many files as a backup of this
	// cluster writes, of a typical size, in the same directory layout, one
	// after the other, no cluster involved.
	b.Run("create-files", func(b *testing.B) {
		cpu := cpuTime()
		data := make([]byte, 400)
		settle()
		for b.Loop() {
			root := fresh("files")
			for _, d := range []struct {
				dir string
				n   int
			}{{"core/ConfigMap", benchConfigMaps}, {"core/Secret", 2 * benchSecrets}, {"batch/CronJob", benchCronJobs}} {
				dir := filepath.Join(root, "namespaces", benchNamespace, filepath.FromSlash(d.dir))
				if err := os.MkdirAll(dir, 0o755); err != nil {
					b.Fatal(err)
				}
				for i := range d.n {
					if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("obj-%05d.yaml", i)), data, 0o644); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		cpu(b)
	})

	b.Run("snapshot-only", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			if _, err := cluster.Snapshot(ctx, &cluster.Target{Config: env.Config(), AllNamespaces: true}, cluster.SnapshotOptions{Exclude: Unlisted()}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
		cpu(b)
	})

	id, r := testKey(b)
	b.Run("backup", func(b *testing.B) {
		settle()
		peak := benchmeter.PeakHeap()
		cpu := cpuTime()
		for b.Loop() {
			res, err := backupLikeCLI(ctx, env.Config(), WriteOptions{Out: fresh("backup"), Recipients: []Recipient{r}})
			if err != nil {
				b.Fatal(err)
			}
			if n := res.Manifest.Counts["core/ConfigMap"] + res.Manifest.Counts["core/Secret"] + res.Manifest.Counts["batch/CronJob"]; n < benchObjects {
				b.Fatalf("backed up %d objects, want at least %d", n, benchObjects)
			}
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
		b.ReportMetric(peak()/(1<<20), "peak-heap-MB")
		cpu(b)
	})

	// The same with one goroutine creating files, to check that two
	// (fileWriters) are the better choice.
	b.Run("backup-1-writer", func(b *testing.B) {
		settle()
		cpu := cpuTime()
		for b.Loop() {
			if _, err := backupLikeCLI(ctx, env.Config(), WriteOptions{Out: fresh("backup"), Recipients: []Recipient{r}, writers: 1}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
		cpu(b)
	})

	// The same backup as one .tar.gz: no file per object on disk.
	b.Run("backup-tarball", func(b *testing.B) {
		dir := b.TempDir()
		var size int64
		peak := benchmeter.PeakHeap()
		cpu := cpuTime()
		i := 0
		for b.Loop() {
			i++
			out := filepath.Join(dir, fmt.Sprint(i, ".tar.gz"))
			res, err := backupLikeCLI(ctx, env.Config(), WriteOptions{Out: out, Recipients: []Recipient{r}})
			if err != nil {
				b.Fatal(err)
			}
			if fi, err := os.Stat(out); err == nil {
				size = fi.Size()
			}
			if n := res.Manifest.Counts["core/ConfigMap"] + res.Manifest.Counts["core/Secret"] + res.Manifest.Counts["batch/CronJob"]; n < benchObjects {
				b.Fatalf("backed up %d objects, want at least %d", n, benchObjects)
			}
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
		b.ReportMetric(peak()/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(size)/(1<<20), "tarball-MB")
		cpu(b)
	})

	// The nightly case: the same cluster backed up again into the same
	// directory with --identity; nothing changed, so nothing is written.
	b.Run("backup-again", func(b *testing.B) {
		out := filepath.Join(b.TempDir(), "b")
		wo := WriteOptions{Out: out, Recipients: []Recipient{r}, Identities: []age.Identity{id}}
		if _, err := backupLikeCLI(ctx, env.Config(), wo); err != nil {
			b.Fatal(err)
		}
		peak := benchmeter.PeakHeap()
		cpu := cpuTime()
		for b.Loop() {
			res, err := backupLikeCLI(ctx, env.Config(), wo)
			if err != nil {
				b.Fatal(err)
			}
			if !res.Unchanged || res.Reencrypted != 0 {
				b.Fatalf("unchanged %v, re-encrypted %d: want an unchanged backup", res.Unchanged, res.Reencrypted)
			}
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
		b.ReportMetric(peak()/(1<<20), "peak-heap-MB")
		cpu(b)
	})
}

// backupLikeCLI backs up as shipshape backup does: the previous backup is
// read while the cluster is listed, then the objects are written, with
// the same garbage collector tuning.
func backupLikeCLI(ctx context.Context, cfg *rest.Config, wo WriteOptions) (*Result, error) {
	defer gctune.Batch()()
	prevc := make(chan *Previous, 1)
	go func() { prevc <- LoadPrevious(ctx, wo.Out) }()
	snap, err := cluster.Snapshot(ctx, &cluster.Target{Config: cfg, AllNamespaces: true}, cluster.SnapshotOptions{Exclude: Unlisted()})
	wo.Previous = <-prevc
	if err != nil {
		return nil, err
	}
	return Write(ctx, snap, wo)
}

// bareListAll lists what a backup reads and does nothing with it: every
// listable resource discovery prefers, but those Unlisted names, page by
// page, eight resources at a time. It returns the number of objects.
func bareListAll(b *testing.B, cfg *rest.Config) int {
	b.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	cfg.WarningHandler = rest.NoWarnings{} // deprecation warnings would break the benchmark's output
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	lists, err := dc.ServerPreferredResources()
	if err != nil {
		b.Fatal(err)
	}
	skip := map[schema.GroupResource]bool{}
	for _, gr := range Unlisted() {
		skip[gr] = true
	}
	var gvrs []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") || skip[gv.WithResource(r.Name).GroupResource()] {
				continue
			}
			gvrs = append(gvrs, gv.WithResource(r.Name))
		}
	}
	var total atomic.Int64
	g, gctx := errgroup.WithContext(context.Background())
	g.SetLimit(8)
	for _, gvr := range gvrs {
		g.Go(func() error {
			opts := metav1.ListOptions{Limit: 500}
			for {
				l, err := dyn.Resource(gvr).List(gctx, opts)
				if err != nil {
					return fmt.Errorf("%s: %w", gvr, err)
				}
				total.Add(int64(len(l.Items)))
				if opts.Continue = l.GetContinue(); opts.Continue == "" {
					return nil
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return int(total.Load())
}

// cpuTime reports, per operation, the user and system CPU time this
// process spent since cpuTime was called. On a loaded machine CPU time
// says more than the wall clock.
func cpuTime() func(b *testing.B) {
	since := benchmeter.CPU()
	return func(b *testing.B) {
		u, s := since()
		b.ReportMetric(u.Seconds()/float64(b.N), "user-s/op")
		b.ReportMetric(s.Seconds()/float64(b.N), "sys-s/op")
	}
}

func seedBenchBackup(b testing.TB, base *rest.Config) {
	b.Helper()
	ctx := context.Background()
	cfg := rest.CopyConfig(base)
	cfg.QPS, cfg.Burst = 2000, 4000
	cs := kubernetes.NewForConfigOrDie(cfg)
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
	if l, err := cs.CoreV1().Secrets(benchNamespace).List(ctx, metav1.ListOptions{Limit: 1}); err == nil && l.RemainingItemCount != nil && *l.RemainingItemCount+1 >= benchSecrets {
		if c, err := cs.BatchV1().CronJobs(benchNamespace).List(ctx, metav1.ListOptions{Limit: 1}); err == nil && c.RemainingItemCount != nil && *c.RemainingItemCount+1 >= benchCronJobs {
			if m, err := cs.CoreV1().ConfigMaps(benchNamespace).List(ctx, metav1.ListOptions{Limit: 1}); err == nil && m.RemainingItemCount != nil && *m.RemainingItemCount+1 >= benchConfigMaps {
				return // seeded by an earlier run on this sandbox
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	created := func(err error) error {
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		return nil
	}
	for i := range benchConfigMaps {
		g.Go(func() error {
			_, err := cs.CoreV1().ConfigMaps(benchNamespace).Create(gctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%05d", i), Labels: map[string]string{"app": "bench"}},
				Data:       map[string]string{"config.yaml": "replicas: 3\nimage: registry.example/app:1.2.3\n", "index": fmt.Sprint(i)},
			}, metav1.CreateOptions{})
			return created(err)
		})
	}
	for i := range benchSecrets {
		g.Go(func() error {
			_, err := cs.CoreV1().Secrets(benchNamespace).Create(gctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("secret-%05d", i)},
				Data:       map[string][]byte{"password": fmt.Appendf(nil, "bench-password-%d", i), "user": []byte("app")},
			}, metav1.CreateOptions{})
			return created(err)
		})
	}
	suspend := true
	for i := range benchCronJobs {
		g.Go(func() error {
			_, err := cs.BatchV1().CronJobs(benchNamespace).Create(gctx, &batchv1.CronJob{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cron-%04d", i)},
				Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", Suspend: &suspend, JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
					Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
						Containers: []corev1.Container{{Name: "job", Image: "registry.example/job:1.0", Args: []string{"--run", fmt.Sprint(i)}}}}},
				}}},
			}, metav1.CreateOptions{})
			return created(err)
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}
