package restore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/disk"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/restore"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// benchObjects is the size of the tree each benchmark iteration restores.
const benchObjects = 400

// perClientObjects is the smaller tree for the per-object-client baselines,
// which are slow enough that a whole tree would take minutes.
const perClientObjects = 100

// benchTree is a Namespace and n ConfigMaps in it.
func benchTree(ns string, n int) []snapshot.Object {
	objs := []snapshot.Object{{Unstructured: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns},
	}}}}
	for i := range n {
		objs = append(objs, cmObject(ns, fmt.Sprintf("cm-%04d", i), fmt.Sprintf("value-%d", i)))
	}
	return objs
}

// delayed adds a fixed delay to every request: the round trip to a real
// cluster across a network, which the local sandbox does not have. (It
// delays requests only, not the TCP and TLS handshakes of new connections,
// so it flatters the baselines that open a connection per object.)
type delayed struct {
	rt    http.RoundTripper
	delay time.Duration
}

func (d delayed) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(d.delay)
	return d.rt.RoundTrip(r)
}

// WrappedRoundTripper lets client-go reach the transport underneath, to
// close its connections.
func (d delayed) WrappedRoundTripper() http.RoundTripper { return d.rt }

// BenchmarkRestore measures restore throughput in objects/s, and the CPU
// each object costs this process (client) and the sandbox's API server and
// etcd (server), next to ways of applying the same tree one object at a
// time:
//
//   - restore: a fresh tree (a new Namespace and its ConfigMaps), phases,
//     bounded concurrency; one LIST per kind and namespace, one apply per
//     new object.
//   - rerun: a tree restored before restored again, everything unchanged:
//     judged from the LIST, no request per object.
//   - rerun-dry-run-each: the same with a dry-run apply per object (what
//     rerun did before it trusted the LIST).
//   - one-at-a-time: one apply after the other through one client that
//     keeps its connection and REST mapping.
//   - per-object-client: what an operator without shipshape does, `kubectl
//     apply -f FILE` per file: per object a new client (kubeconfig read,
//     new connection), discovery and REST mapping, then one apply.
//     Discovery is read from an on-disk cache as kubectl does (filled by
//     the first object).
//   - per-object-client-no-cache: the same with discovery from the server
//     for every object (kubectl with no or an expired discovery cache).
//
// Every iteration but a rerun's uses a new namespace: 400 ConfigMaps, 100
// for the per-object-client baselines. Server CPU is read from /proc over
// each timed run, so it includes the sandbox's own background work.
//
//	go test ./internal/restore/ -run '^$' -bench Restore -count 5
func BenchmarkRestore(b *testing.B) {
	env := sandboxtest.Get(b)
	server := serverPID(env)
	for _, rtt := range []time.Duration{0, 10 * time.Millisecond} {
		wrap := func(cfg *rest.Config) *rest.Config {
			if rtt > 0 {
				cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return delayed{rt, rtt} }
			}
			return cfg
		}
		a, err := cluster.NewApplier(&cluster.Target{Config: wrap(env.Config()), Namespace: "default"})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("rtt=%s", rtt), func(b *testing.B) {
			benchRestore(b, a, server, func() (*rest.Config, error) {
				cfg, err := clientcmd.BuildConfigFromFlags("", env.Kubeconfig())
				if err != nil {
					return nil, err
				}
				return wrap(cfg), nil
			})
		})
	}
}

func benchRestore(b *testing.B, a *cluster.Applier, server int, loadConfig func() (*rest.Config, error)) {
	ctx := context.Background()
	run := 0
	nextTree := func(n int) []snapshot.Object {
		run++
		return benchTree(fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), run), n)
	}
	// timed runs f over trees (a new one each time, or the same one when
	// the tree is given) and reports objects/s and CPU per object.
	timed := func(b *testing.B, n int, same []snapshot.Object, f func([]snapshot.Object)) {
		var objects int
		var elapsed time.Duration
		var clientCPU, serverCPU time.Duration
		for b.Loop() {
			tree := same
			if tree == nil {
				tree = nextTree(n)
			}
			c0, s0 := processCPU(), treeCPU(server)
			start := time.Now()
			f(tree)
			elapsed += time.Since(start)
			clientCPU += processCPU() - c0
			serverCPU += treeCPU(server) - s0
			objects += len(tree)
		}
		b.ReportMetric(float64(objects)/elapsed.Seconds(), "objects/s")
		b.ReportMetric(float64(clientCPU.Microseconds())/float64(objects), "client-cpu-us/object")
		if server > 0 {
			b.ReportMetric(float64(serverCPU.Microseconds())/float64(objects), "server-cpu-us/object")
		}
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-rss-MB")
	}
	restoreAll := func(b *testing.B, want restore.Action) func([]snapshot.Object) {
		return func(tree []snapshot.Object) {
			res, err := restore.Run(ctx, a, tree, restore.Options{})
			if err != nil || res.Count(want) != len(tree) {
				b.Fatalf("restore: %v, %d of %d %s", err, res.Count(want), len(tree), want)
			}
		}
	}

	b.Run("restore", func(b *testing.B) {
		timed(b, benchObjects, nil, restoreAll(b, restore.Create))
	})
	restored := nextTree(benchObjects)
	restoreAll(b, restore.Create)(restored)
	b.Run("rerun", func(b *testing.B) {
		timed(b, benchObjects, restored, restoreAll(b, restore.Unchanged))
	})
	b.Run("rerun-dry-run-each", func(b *testing.B) {
		defer restore.SetTrustLive(false)()
		timed(b, benchObjects, restored, restoreAll(b, restore.Unchanged))
	})
	b.Run("one-at-a-time", func(b *testing.B) {
		timed(b, benchObjects, nil, func(tree []snapshot.Object) {
			for _, o := range tree {
				if _, err := a.Apply(ctx, o.Unstructured, cluster.ApplyOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	cacheDir := b.TempDir()
	for _, cached := range []bool{true, false} {
		name := "per-object-client"
		if !cached {
			name += "-no-cache"
		}
		b.Run(name, func(b *testing.B) {
			timed(b, perClientObjects, nil, func(tree []snapshot.Object) {
				for _, o := range tree {
					if err := applyLikeKubectl(ctx, loadConfig, cacheDir, cached, o.Unstructured); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// applyLikeKubectl applies obj as one `kubectl apply --server-side -f FILE`
// would: read the kubeconfig, make a new client with its own connection,
// map the kind through discovery (from cacheDir, as kubectl caches it, or
// from the server), apply, and drop the client.
func applyLikeKubectl(ctx context.Context, loadConfig func() (*rest.Config, error), cacheDir string, cached bool, obj *unstructured.Unstructured) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	// A dialer of its own keeps client-go from sharing a cached transport,
	// and so a connection, with the other objects: a new process has none.
	dialer := &net.Dialer{}
	cfg.Dial = dialer.DialContext
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	// The connection ends with the object, as with a process that exits.
	defer utilnet.CloseIdleConnectionsFor(httpClient.Transport)
	var dc discovery.CachedDiscoveryInterface
	if cached {
		if dc, err = disk.NewCachedDiscoveryClientForConfig(rest.CopyConfig(cfg), filepath.Join(cacheDir, "discovery"), filepath.Join(cacheDir, "http"), 6*time.Hour); err != nil {
			return err
		}
	} else {
		d, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
		if err != nil {
			return err
		}
		dc = memory.NewMemCacheClient(d)
	}
	gvk := obj.GroupVersionKind()
	m, err := restmapper.NewDeferredDiscoveryRESTMapper(dc).RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if ns := obj.GetNamespace(); ns != "" {
		ri = dyn.Resource(m.Resource).Namespace(ns)
	}
	body, err := obj.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "kubectl"})
	return err
}

// serverPID is the sandbox's process id from its ready file, or 0.
func serverPID(env *sandboxtest.Env) int {
	data, err := os.ReadFile(filepath.Join(env.Dir(), "ready"))
	if err != nil {
		return 0
	}
	var r struct {
		PID int `json:"pid"`
	}
	if json.Unmarshal(data, &r) != nil {
		return 0
	}
	return r.PID
}

// processCPU is the user and system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is this process's peak resident set size in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss << 10 // kilobytes on Linux
}

// clockTick is the unit of CPU times in /proc/PID/stat (USER_HZ, 100 on
// Linux).
const clockTick = 10 * time.Millisecond

// treeCPU is the user and system CPU used by process pid and its live
// descendants (the sandbox runs etcd as a child), read from /proc; 0 where
// /proc is not there.
func treeCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	parent := map[int]int{}
	cpu := map[int]time.Duration{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces.
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		parent[p] = ppid
		cpu[p] = time.Duration(utime+stime) * clockTick
	}
	var total time.Duration
	for p, c := range cpu {
		for q := p; q > 1; q = parent[q] {
			if q == pid {
				total += c
				break
			}
		}
	}
	return total
}
