package seed

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestGenerateTLS(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	o := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
		"metadata": map[string]any{"name": "web-tls", "namespace": "shop", "annotations": map[string]any{GenerateTLSAnnotation: "10d"}},
	}}
	if err := generateTLS(o, now); err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedStringMap(o.Object, "data")
	dec := func(k string) []byte {
		b, err := base64.StdEncoding.DecodeString(data[k])
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		return b
	}
	if _, err := tls.X509KeyPair(dec("tls.crt"), dec("tls.key")); err != nil {
		t.Fatalf("tls.crt and tls.key do not match: %v", err)
	}
	blk, _ := pem.Decode(dec("tls.crt"))
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.NotAfter.Sub(now); got != 10*24*time.Hour-time.Hour {
		t.Errorf("expires %v after now, want 10d - 1h", got)
	}
	if c.DNSNames[0] != "web-tls.shop.svc" {
		t.Errorf("DNS names %v", c.DNSNames)
	}
	bad := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "x", "annotations": map[string]any{GenerateTLSAnnotation: "soon"}}}}
	if err := generateTLS(bad, now); err == nil {
		t.Error("a bad duration did not fail")
	}
}
