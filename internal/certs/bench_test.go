package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/shipshape-dev/shipshape/internal/benchmeter"
	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

const (
	benchNamespace = "certs-bench"
	benchSecrets   = 10000
	// benchDistinct certificates are generated: one per Secret, all from one
	// CA, as an issuer such as cert-manager's would make them. Their keys are
	// RSA 2048 (cert-manager's and kubeadm's default), drawn from a pool of
	// benchKeys so that seeding stays quick.
	benchDistinct = benchSecrets
	benchKeys     = 16
)

// BenchmarkLiveSecrets compares the live certs path (a snapshot of the
// resources certs reads, every certificate decoded and judged) with a bare
// paginated LIST of the same 10,000 TLS Secrets, in one sandbox and one run.
// Each reports the peak Go heap while it ran.
//
//	go test ./internal/certs/ -run '^$' -bench LiveSecrets -benchtime 3x -count 5
func BenchmarkLiveSecrets(b *testing.B) {
	if testing.Short() {
		b.Skip("needs the sandbox control plane; runs without -short")
	}
	ctx := context.Background()
	env, err := sandboxtest.Start(ctx, sandboxtest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = env.Stop() })
	start := time.Now()
	ca, leafDER := seedSecrets(b, env.Config())
	b.Logf("seeded %d TLS Secrets in %v", benchSecrets, time.Since(start).Round(time.Second))

	b.Run("bare-list", func(b *testing.B) {
		cfg := rest.CopyConfig(env.Config())
		cfg.ContentType = "application/vnd.kubernetes.protobuf"
		cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf"
		cfg.QPS, cfg.Burst = 50, 100
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			b.Fatal(err)
		}
		peak, cpu := benchmeter.PeakHeap(), cpuTime()
		for b.Loop() {
			n := 0
			opts := metav1.ListOptions{Limit: 500}
			for {
				l, err := cs.CoreV1().Secrets("").List(ctx, opts)
				if err != nil {
					b.Fatal(err)
				}
				n += len(l.Items)
				if opts.Continue = l.Continue; opts.Continue == "" {
					break
				}
			}
			if n < benchSecrets {
				b.Fatalf("listed %d Secrets, want at least %d", n, benchSecrets)
			}
		}
		b.ReportMetric(peak()/(1<<20), "peak-heap-MiB")
		b.ReportMetric(cpu()/float64(b.N), "client-cpu-s/op")
	})

	target, err := cluster.ConfigFlags{Kubeconfig: env.Kubeconfig(), AllNamespaces: true}.Load()
	if err != nil {
		b.Fatal(err)
	}

	// The snapshot alone, to tell the cost of listing from the cost of
	// judging.
	b.Run("snapshot-only", func(b *testing.B) {
		peak, cpu := benchmeter.PeakHeap(), cpuTime()
		for b.Loop() {
			if _, err := cluster.Snapshot(ctx, target, cluster.SnapshotOptions{Resources: Resources()}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peak()/(1<<20), "peak-heap-MiB")
		b.ReportMetric(cpu()/float64(b.N), "client-cpu-s/op")
	})

	b.Run("certs-live", func(b *testing.B) {
		peak, cpu := benchmeter.PeakHeap(), cpuTime()
		for b.Loop() {
			snap, err := cluster.Snapshot(ctx, target, cluster.SnapshotOptions{Resources: Resources()})
			if err != nil {
				b.Fatal(err)
			}
			inv := FromSnapshot(snap)
			judgeHealthy(b, inv)
		}
		b.ReportMetric(peak()/(1<<20), "peak-heap-MiB")
		b.ReportMetric(cpu()/float64(b.N), "client-cpu-s/op")
	})

	// The streaming path: each page read and its chains checked while the
	// next is fetched, Secrets as typed lists, no snapshot held.
	b.Run("certs-stream", func(b *testing.B) {
		peak, cpu := benchmeter.PeakHeap(), cpuTime()
		for b.Loop() {
			col := NewCollector()
			opts := cluster.StreamOptions{SnapshotOptions: cluster.SnapshotOptions{Resources: Resources()}, Typed: TypedResources()}
			if _, err := cluster.Stream(ctx, target, opts, col.Page); err != nil {
				b.Fatal(err)
			}
			inv := col.Inventory()
			judgeHealthy(b, inv)
		}
		b.ReportMetric(peak()/(1<<20), "peak-heap-MiB")
		b.ReportMetric(cpu()/float64(b.N), "client-cpu-s/op")
	})

	// The floor: the 10,000 signature checks of the chain check alone,
	// on every CPU, nothing listed (last, so that its certificates do not
	// count in the others' peak heap).
	b.Run("verify-floor", func(b *testing.B) {
		leaves := make([]*x509.Certificate, len(leafDER))
		for i, der := range leafDER {
			var err error
			if leaves[i], err = x509.ParseCertificate(der); err != nil {
				b.Fatal(err)
			}
		}
		cpu := cpuTime()
		for b.Loop() {
			g := errgroup.Group{}
			n := runtime.GOMAXPROCS(0)
			for w := range n {
				g.Go(func() error {
					for i := w; i < len(leaves); i += n {
						if err := leaves[i].CheckSignatureFrom(ca); err != nil {
							return err
						}
					}
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(cpu()/float64(b.N), "client-cpu-s/op")
	})
}

// judgeHealthy fails b unless inv holds every seeded certificate (leaf and
// CA of each Secret) and judging it finds nothing.
func judgeHealthy(b *testing.B, inv *Inventory) {
	b.Helper()
	if len(inv.Certs) < 2*benchSecrets {
		b.Fatalf("found %d certificates, want at least %d", len(inv.Certs), 2*benchSecrets)
	}
	if fs := Judge(inv, DefaultPolicy(), time.Now()); len(fs) != 0 {
		b.Fatalf("%d findings on healthy Secrets, e.g. %v", len(fs), fs[0])
	}
}

// cpuTime returns a function that reports the CPU time (user and system)
// this process used since cpuTime was called, in seconds: the client's
// share, as the sandbox's control plane runs in processes of its own.
func cpuTime() func() float64 {
	since := benchmeter.CPU()
	return func() float64 {
		u, s := since()
		return (u + s).Seconds()
	}
}

// seedSecrets creates the TLS Secrets and returns their CA and leaves (DER).
func seedSecrets(b *testing.B, base *rest.Config) (*x509.Certificate, [][]byte) {
	b.Helper()
	ctx := context.Background()
	cfg := rest.CopyConfig(base)
	cfg.QPS, cfg.Burst = 1000, 2000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	type pair struct{ crt, key, ca []byte }
	pairs := make([]pair, benchDistinct)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench-ca"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(3650 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, caKey.Public(), caKey)
	if err != nil {
		b.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaves := make([][]byte, benchDistinct)
	keys := make([]*rsa.PrivateKey, benchKeys)
	for i := range keys {
		if keys[i], err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			b.Fatal(err)
		}
	}
	for i := range pairs {
		key := keys[i%benchKeys]
		name := fmt.Sprintf("svc-%d.bench.example", i)
		lt := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour), BasicConstraintsValid: true}
		der, err := x509.CreateCertificate(rand.Reader, lt, ca, key.Public(), caKey)
		if err != nil {
			b.Fatal(err)
		}
		leaves[i] = der
		pairs[i] = pair{
			pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
			pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range benchSecrets {
		g.Go(func() error {
			p := pairs[i%benchDistinct]
			_, err := cs.CoreV1().Secrets(benchNamespace).Create(gctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("tls-%05d", i)}, Type: corev1.SecretTypeTLS,
				Data: map[string][]byte{"tls.crt": p.crt, "tls.key": p.key, "ca.crt": p.ca},
			}, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return ca, leaves
}
