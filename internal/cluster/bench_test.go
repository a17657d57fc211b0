package cluster

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

const (
	benchNamespace   = "shipshape-bench"
	benchConfigMaps  = 20000
	benchDeployments = 5000
)

// BenchmarkSnapshot compares Snapshot with the cheapest possible read of the
// same objects: a sequential, paginated protobuf LIST with the typed
// clientset, decoding into typed structs and nothing else.
//
//	go test ./internal/cluster/ -run '^$' -bench Snapshot -benchtime 3x -count 5
func BenchmarkSnapshot(b *testing.B) {
	env := sandboxtest.Get(b)
	ctx := context.Background()
	start := time.Now()
	seedBench(b, env.Config())
	b.Logf("seeded in %v", time.Since(start).Round(time.Second))
	want := benchConfigMaps + benchDeployments

	b.Run("bare-list", func(b *testing.B) {
		cfg := rest.CopyConfig(env.Config())
		cfg.ContentType = "application/vnd.kubernetes.protobuf"
		cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf"
		cfg.QPS, cfg.Burst = defaultQPS, defaultBurst
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			b.Fatal(err)
		}
		cpu0 := cpuTime(b)
		for b.Loop() {
			n := 0
			opts := metav1.ListOptions{Limit: defaultPageSize}
			for {
				l, err := cs.CoreV1().ConfigMaps(benchNamespace).List(ctx, opts)
				if err != nil {
					b.Fatal(err)
				}
				n += len(l.Items)
				if opts.Continue = l.Continue; opts.Continue == "" {
					break
				}
			}
			opts = metav1.ListOptions{Limit: defaultPageSize}
			for {
				l, err := cs.AppsV1().Deployments(benchNamespace).List(ctx, opts)
				if err != nil {
					b.Fatal(err)
				}
				n += len(l.Items)
				if opts.Continue = l.Continue; opts.Continue == "" {
					break
				}
			}
			if n < want {
				b.Fatalf("listed %d objects, want at least %d", n, want)
			}
		}
		b.ReportMetric(float64(want*b.N)/b.Elapsed().Seconds(), "objects/s")
		b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/float64(b.N), "client-cpu-ms/op")
	})

	target := &Target{Config: env.Config(), Namespace: benchNamespace}
	opts := SnapshotOptions{Resources: []schema.GroupResource{{Resource: "configmaps"}, {Group: "apps", Resource: "deployments"}}}
	for _, mode := range []struct {
		name string
		tn   tuning
	}{
		{"snapshot", tuning{retry: defaultRetryPolicy()}},
		// The alternative wire format, measured to check the choice
		// explained in list.go.
		{"snapshot-protobuf", tuning{retry: defaultRetryPolicy(), protobuf: true}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			cpu0 := cpuTime(b)
			for b.Loop() {
				s, err := snapshotWith(ctx, target, opts, mode.tn)
				if err != nil {
					b.Fatal(err)
				}
				if len(s.Objects) < want || len(s.Gaps) != 0 {
					b.Fatalf("snapshot has %d objects and gaps %v, want at least %d objects", len(s.Objects), s.Gaps, want)
				}
			}
			b.ReportMetric(float64(want*b.N)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/float64(b.N), "client-cpu-ms/op")
		})
	}
}

// seedBench creates the benchmark's objects unless an earlier run in the
// same sandbox already did. The deployment controller keeps writing the new
// Deployments' status for a few minutes afterwards, at its own client rate
// limit; that light background load is the same for every sub-benchmark.
func seedBench(b *testing.B, base *rest.Config) {
	b.Helper()
	ctx := context.Background()
	cfg := rest.CopyConfig(base)
	cfg.QPS, cfg.Burst = 1000, 2000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatalf("create namespace: %v", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	created := func(what string, err error) error {
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %s: %w", what, err)
		}
		return nil
	}
	cms, err := cs.CoreV1().ConfigMaps(benchNamespace).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	if total(cms.ListMeta, len(cms.Items)) < benchConfigMaps {
		for i := range benchConfigMaps {
			g.Go(func() error {
				name := fmt.Sprintf("bench-%05d", i)
				_, err := cs.CoreV1().ConfigMaps(benchNamespace).Create(gctx, &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
					Data:       map[string]string{"config.yaml": "replicas: 3\nimage: registry.example/app:1.2.3\n", "index": fmt.Sprint(i)},
				}, metav1.CreateOptions{})
				return created("configmap "+name, err)
			})
		}
	}
	deps, err := cs.AppsV1().Deployments(benchNamespace).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	if total(deps.ListMeta, len(deps.Items)) < benchDeployments {
		for i := range benchDeployments {
			g.Go(func() error {
				name := fmt.Sprintf("bench-%04d", i)
				_, err := cs.AppsV1().Deployments(benchNamespace).Create(gctx, benchDeployment(name), metav1.CreateOptions{})
				return created("deployment "+name, err)
			})
		}
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

// total is the size of a list read with a limit: the items returned plus
// those remaining.
func total(lm metav1.ListMeta, items int) int {
	if lm.RemainingItemCount == nil {
		return items
	}
	return items + int(*lm.RemainingItemCount)
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
