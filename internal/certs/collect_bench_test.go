package certs

import (
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
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// pageSecrets are the Secrets seedSecrets puts in the sandbox, made
// in-process and grouped into typed pages of 500 as cluster.Stream hands
// them to a Collector: one leaf per Secret from one P-256 CA, RSA 2048 keys
// from a pool of benchKeys, the CA beside each leaf in ca.crt.
type pageSecrets struct {
	pages  []*corev1.SecretList
	ca     *x509.Certificate
	leaves []*x509.Certificate
}

var (
	benchPagesOnce sync.Once
	benchPagesData *pageSecrets
	benchPagesErr  error
)

func benchPages(b *testing.B) *pageSecrets {
	b.Helper()
	benchPagesOnce.Do(func() { benchPagesData, benchPagesErr = makePageSecrets(benchSecrets, 500) })
	if benchPagesErr != nil {
		b.Fatal(benchPagesErr)
	}
	return benchPagesData
}

func makePageSecrets(n, pageSize int) (*pageSecrets, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench-ca"}, NotBefore: start.Add(-time.Hour), NotAfter: start.Add(3650 * Day), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	keys := make([][]byte, benchKeys)
	pubs := make([]*rsa.PublicKey, benchKeys)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		keys[i] = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		pubs[i] = &k.PublicKey
	}
	out := &pageSecrets{ca: ca, leaves: make([]*x509.Certificate, n)}
	var page *corev1.SecretList
	for i := range n {
		name := fmt.Sprintf("svc-%d.bench.example", i)
		lt := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name}, NotBefore: start.Add(-time.Hour), NotAfter: start.Add(365 * Day), BasicConstraintsValid: true}
		der, err := x509.CreateCertificate(rand.Reader, lt, ca, pubs[i%benchKeys], caKey)
		if err != nil {
			return nil, err
		}
		if out.leaves[i], err = x509.ParseCertificate(der); err != nil {
			return nil, err
		}
		if page == nil || len(page.Items) == pageSize {
			page = &corev1.SecretList{}
			out.pages = append(out.pages, page)
		}
		// Every Secret holds its own copy of each value, as decoding a
		// LIST response gives them.
		page.Items = append(page.Items, corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: fmt.Sprintf("tls-%05d", i)},
			Type:       corev1.SecretTypeTLS,
			Data: map[string][]byte{
				"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
				"tls.key": append([]byte(nil), keys[i%benchKeys]...),
				"ca.crt":  append([]byte(nil), caPEM...),
			},
		})
	}
	return out, nil
}

// BenchmarkCollectPages measures what the live certs path costs per Secret
// apart from the LIST: 10,000 TLS Secrets in typed pages through
// Collector.Page, Inventory and Judge, without a sandbox. The
// signature-floor sub-benchmark makes only the 10,000 signature checks the
// chain check cannot skip, on one goroutine (signature-floor-parallel: on
// every CPU, as the Collector does); collect-judge should approach it.
//
//	go test ./internal/certs/ -short -run '^$' -bench CollectPages -benchmem -count 5
func BenchmarkCollectPages(b *testing.B) {
	d := benchPages(b)
	secrets := snapshot.Resource{Version: "v1", Resource: "secrets", Kind: "Secret", Namespaced: true}
	at := time.Now()

	b.Run("collect-judge", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			col := NewCollector()
			for i, l := range d.pages {
				if err := col.Page(cluster.Page{Resource: secrets, Typed: l, Last: i == len(d.pages)-1}); err != nil {
					b.Fatal(err)
				}
			}
			inv := col.Inventory()
			if len(inv.Certs) != 2*len(d.leaves) || len(inv.Keys) != len(d.leaves) {
				b.Fatalf("found %d certificates and %d keys, want %d and %d", len(inv.Certs), len(inv.Keys), 2*len(d.leaves), len(d.leaves))
			}
			if fs := Judge(inv, DefaultPolicy(), at); len(fs) != 0 {
				b.Fatalf("%d findings on healthy Secrets, e.g. %v", len(fs), fs[0])
			}
		}
		b.ReportMetric(cpu()/float64(b.N), "cpu-s/op")
	})

	b.Run("signature-floor", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			for _, l := range d.leaves {
				if err := l.CheckSignatureFrom(d.ca); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(cpu()/float64(b.N), "cpu-s/op")
	})

	b.Run("signature-floor-parallel", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			var wg sync.WaitGroup
			workers := runtime.GOMAXPROCS(0)
			errs := make([]error, workers)
			for w := range workers {
				wg.Go(func() {
					for i := w; i < len(d.leaves); i += workers {
						if err := d.leaves[i].CheckSignatureFrom(d.ca); err != nil {
							errs[w] = err
						}
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(cpu()/float64(b.N), "cpu-s/op")
	})
}
