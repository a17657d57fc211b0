package seed

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/sandbox/internal/pki"
)

// GenerateTLSAnnotation on a Secret of type kubernetes.io/tls asks the seed
// to fill tls.crt, tls.key and ca.crt with a fresh certificate valid from an
// hour ago for the given duration ("10d"), so that a demo always has a
// certificate that expires soon, whenever it runs. The leaf's DNS name is
// NAME.NAMESPACE.svc; its CA is made for it and valid ten years.
const GenerateTLSAnnotation = "sandbox.shipshape.dev/generate-tls"

// generateTLS fills an annotated TLS Secret; other objects are unchanged.
func generateTLS(o *unstructured.Unstructured, now time.Time) error {
	validity, ok := o.GetAnnotations()[GenerateTLSAnnotation]
	if !ok || o.GetKind() != "Secret" || o.GroupVersionKind().Group != "" {
		return nil
	}
	d, err := pki.ParseDuration(validity)
	if err != nil || d <= 0 {
		return fmt.Errorf("seed Secret %s: annotation %s: want a positive duration such as 10d, got %q", o.GetName(), GenerateTLSAnnotation, validity)
	}
	ns := o.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	name := o.GetName() + "." + ns + ".svc"
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	start := now.Add(-time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: o.GetName() + "-ca"},
		NotBefore: start, NotAfter: start.Add(3650 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: start, NotAfter: start.Add(d), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Public(), caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	enc := func(typ string, der []byte) string {
		return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	data := map[string]any{
		"tls.crt": enc("CERTIFICATE", leafDER),
		"tls.key": enc("PRIVATE KEY", keyDER),
		"ca.crt":  enc("CERTIFICATE", caDER),
	}
	if err := unstructured.SetNestedMap(o.Object, data, "data"); err != nil {
		return err
	}
	unstructured.RemoveNestedField(o.Object, "stringData")
	if t, _, _ := unstructured.NestedString(o.Object, "type"); !strings.EqualFold(t, "kubernetes.io/tls") {
		o.Object["type"] = "kubernetes.io/tls"
	}
	return nil
}
