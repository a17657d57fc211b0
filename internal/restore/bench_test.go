package restore_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/restore"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// benchObjects is the size of the tree each benchmark iteration restores.
const benchObjects = 400

// benchTree is a Namespace and benchObjects ConfigMaps in it.
func benchTree(ns string) []snapshot.Object {
	objs := []snapshot.Object{{Unstructured: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns},
	}}}}
	for i := range benchObjects {
		objs = append(objs, cmObject(ns, fmt.Sprintf("cm-%04d", i), fmt.Sprintf("value-%d", i)))
	}
	return objs
}

// delayed adds a fixed delay to every request: the round trip to a real
// cluster across a network, which the local sandbox does not have.
type delayed struct {
	rt    http.RoundTripper
	delay time.Duration
}

func (d delayed) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(d.delay)
	return d.rt.RoundTrip(r)
}

// BenchmarkRestore compares restore (phases, bounded concurrency, a GET and
// an apply per new object) with applying the same tree one object at a
// time. Each iteration restores into a new namespace; objects/s is the
// figure to compare.
//
//	go test ./internal/restore/ -run '^$' -bench Restore -count 5
func BenchmarkRestore(b *testing.B) {
	env := sandboxtest.Get(b)
	for _, rtt := range []time.Duration{0, 10 * time.Millisecond} {
		cfg := env.Config()
		if rtt > 0 {
			cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return delayed{rt, rtt} }
		}
		a, err := cluster.NewApplier(&cluster.Target{Config: cfg, Namespace: "default"})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("rtt=%s", rtt), func(b *testing.B) { benchRestore(b, a) })
	}
}

func benchRestore(b *testing.B, a *cluster.Applier) {
	ctx := context.Background()
	run := 0
	nextTree := func() []snapshot.Object {
		run++
		return benchTree(fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), run))
	}
	report := func(b *testing.B, objects int, elapsed time.Duration) {
		b.ReportMetric(float64(objects)/elapsed.Seconds(), "objects/s")
	}

	b.Run("restore", func(b *testing.B) {
		var objects int
		var elapsed time.Duration
		for b.Loop() {
			tree := nextTree()
			start := time.Now()
			res, err := restore.Run(ctx, a, tree, restore.Options{})
			elapsed += time.Since(start)
			if err != nil || !res.Complete() {
				b.Fatalf("restore: %v %v", err, res.Count(restore.Failed))
			}
			objects += len(tree)
		}
		report(b, objects, elapsed)
	})
	b.Run("one-at-a-time", func(b *testing.B) {
		var objects int
		var elapsed time.Duration
		for b.Loop() {
			tree := nextTree()
			start := time.Now()
			for _, o := range tree {
				if _, err := a.Apply(ctx, o.Unstructured, cluster.ApplyOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			elapsed += time.Since(start)
			objects += len(tree)
		}
		report(b, objects, elapsed)
	})
}
