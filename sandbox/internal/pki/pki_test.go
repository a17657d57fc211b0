package pki

import (
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func testConfig() Config {
	return Config{
		NodeName:    "node",
		AdvertiseIP: net.ParseIP("127.0.0.1"),
		ServiceIP:   net.ParseIP("10.96.0.1"),
		KeyType:     KeyECDSA,
	}
}

func TestEnsureReusesAndRegenerates(t *testing.T) {
	dir := t.TempDir()
	c := testConfig()
	c.Validity = map[string]time.Duration{"apiserver": 48 * time.Hour}
	c.NotBefore = map[string]time.Duration{"front-proxy-client": -400 * 24 * time.Hour}
	p1, err := Ensure(dir, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	api := p1.Pairs["apiserver"].Cert
	if got := api.NotAfter.Sub(api.NotBefore); got != 48*time.Hour {
		t.Errorf("apiserver validity = %s, want 48h", got)
	}
	roots := x509.NewCertPool()
	roots.AddCert(p1.Pairs["ca"].Cert)
	if _, err := api.Verify(x509.VerifyOptions{Roots: roots, DNSName: "kubernetes.default.svc.cluster.local"}); err != nil {
		t.Errorf("apiserver: %v", err)
	}
	invalid := p1.Invalid(time.Now())
	if _, ok := invalid["front-proxy-client"]; !ok || len(invalid) != 1 {
		t.Errorf("Invalid() = %v, want only front-proxy-client", invalid)
	}
	for _, f := range []string{"sa.key", "sa.pub", "etcd/server.crt", "etcd/peer.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}

	// Second run reuses everything on disk.
	p2, err := Ensure(dir, testConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p2.Pairs["ca"].Cert.Equal(p1.Pairs["ca"].Cert) || !p2.Pairs["apiserver"].Cert.Equal(api) {
		t.Error("existing certificates were not reused")
	}

	// A new CA regenerates everything it signs, but nothing else.
	if err := os.Remove(filepath.Join(dir, "etcd/ca.key")); err != nil {
		t.Fatal(err)
	}
	p3, err := Ensure(dir, testConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p3.Pairs["etcd/server"].Cert.Equal(p1.Pairs["etcd/server"].Cert) {
		t.Error("etcd/server not regenerated after etcd/ca changed")
	}
	if !p3.Pairs["apiserver"].Cert.Equal(api) {
		t.Error("apiserver regenerated although ca is unchanged")
	}
}

func TestWrongSigner(t *testing.T) {
	c := testConfig()
	c.Signer = map[string]string{"front-proxy-client": "etcd/ca"}
	p, err := Ensure(t.TempDir(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Pairs["front-proxy-client"].Cert.Issuer.CommonName; got != "etcd-ca" {
		t.Errorf("issuer = %q, want etcd-ca", got)
	}
	c.Signer = map[string]string{"nope": "ca"}
	if _, err := Ensure(t.TempDir(), c, nil); err == nil {
		t.Error("unknown certificate name accepted")
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"48h":   48 * time.Hour,
		"30d":   30 * 24 * time.Hour,
		"-400d": -400 * 24 * time.Hour,
		"1y":    365 * 24 * time.Hour,
		"1.5d":  36 * time.Hour,
		"-5m":   -5 * time.Minute,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "3x", "40xd", "--1d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}
