package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// startGuard runs guardRun on 127.0.0.1 until the test ends and returns a
// client trusting its CA and the /validate URL.
func startGuard(t testing.TB, opts *GuardOptions) (*http.Client, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	type ready struct {
		addr string
		ca   []byte
	}
	readyc := make(chan ready, 1)
	streams, _, errb := testStreams("")
	opts.Globals = &Globals{Streams: streams, Output: "table", FailOn: "high"}
	opts.Listen = "127.0.0.1:0"
	opts.Hosts = []string{"127.0.0.1"}
	opts.CertValidity, opts.CAValidity, opts.RenewCheck = 24*time.Hour, 48*time.Hour, time.Minute
	opts.Ready = func(addr string, ca []byte) { readyc <- ready{addr, ca} }
	done := make(chan error, 1)
	go func() { done <- guardRun(ctx, opts) }()
	var r ready
	select {
	case r = <-readyc:
	case err := <-done:
		cancel()
		t.Fatalf("guard stopped: %v\n%s", err, errb)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("guard: %v", err)
		}
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(r.ca)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 256}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, "https://" + r.addr
}

func review(c *http.Client, url string, uid string, object []byte) (*admissionv1.AdmissionResponse, error) {
	ar := admissionv1.AdmissionReview{Request: &admissionv1.AdmissionRequest{UID: types.UID(uid), Operation: admissionv1.Create, Namespace: "shop", Object: runtime.RawExtension{Raw: object}}}
	ar.APIVersion, ar.Kind = "admission.k8s.io/v1", "AdmissionReview"
	b, _ := json.Marshal(ar)
	resp, err := c.Post(url+"/validate", "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	if out.Response == nil || string(out.Response.UID) != uid {
		return nil, fmt.Errorf("response for another request: %+v", out.Response)
	}
	return out.Response, nil
}

const wildRole = `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"wild","namespace":"shop"%s},
"rules":[{"apiGroups":[""],"resources":["*"],"verbs":["list"]}]}`

// TestGuardCommand runs the command's server with the scan registry and the
// audit exemption policy (annotations on by default).
func TestGuardCommand(t *testing.T) {
	c, url := startGuard(t, &GuardOptions{})
	resp, err := review(c, url, "1", fmt.Appendf(nil, wildRole, ""))
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Allowed || !slices.ContainsFunc(resp.Warnings, func(w string) bool { return strings.Contains(w, "[rbac/wildcard]") }) {
		t.Errorf("default warn mode: allowed=%v warnings=%q; want allowed with an rbac/wildcard warning", resp.Allowed, resp.Warnings)
	}
	resp, err = review(c, url, "2", fmt.Appendf(nil, wildRole, `,"annotations":{"shipshape.dev/exempt":"rbac/wildcard","shipshape.dev/exempt-reason":"reviewed"}`))
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(resp.Warnings, func(w string) bool { return strings.Contains(w, "[rbac/wildcard]") }) {
		t.Errorf("exempted by annotation, still warned: %q", resp.Warnings)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		r, err := c.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", path, r.Status)
		}
	}
}

func TestGuardUsage(t *testing.T) {
	for _, args := range [][]string{
		{"guard"},
		{"guard", "--host", "x", "--cert-validity", "1m"},
		{"guard", "--host", "x", "--ca-secret", "no-slash"},
		{"guard", "--host", "x", "extra"},
	} {
		streams, _, _ := testStreams("")
		root := NewRootCmd(streams)
		root.SetArgs(args)
		if err := root.Execute(); ExitCode(err) != ExitUsage {
			t.Errorf("%q: err %v, want a usage error", args, err)
		}
	}
}

// benchDeployment is a typical Deployment, with findings for most
// workload checks.
const benchDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web-%d","namespace":"shop","labels":{"app":"web"}},
"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
"spec":{"containers":[{"name":"web","image":"nginx:latest","ports":[{"containerPort":80}],
"env":[{"name":"DB_PASSWORD","value":"x"}]},{"name":"sidecar","image":"busybox","securityContext":{"privileged":true}}]}}}}`

// BenchmarkGuard200Concurrent sends 200 AdmissionReviews at once over
// HTTPS to the guard running every scan check, and reports the median and
// 99th percentile latency of one review.
func BenchmarkGuard200Concurrent(b *testing.B) {
	c, url := startGuard(b, &GuardOptions{})
	var all []time.Duration
	for b.Loop() {
		lat := make([]time.Duration, 200)
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := range 200 {
			wg.Go(func() {
				start := time.Now()
				if _, err := review(c, url, fmt.Sprint(i), fmt.Appendf(nil, benchDeployment, i)); err != nil {
					errs <- err
				}
				lat[i] = time.Since(start)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		all = append(all, lat...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(all[len(all)-1].Microseconds())/1000, "max-ms")
}
