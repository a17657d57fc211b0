package render

import (
	"bytes"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/golden"
)

func TestCertTable(t *testing.T) {
	at := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	rows := []CertRow{
		{Source: "storefront/Secret/web-tls tls.crt", Subject: "CN=web-tls.storefront.svc", Issuer: "CN=web-tls-ca", NotAfter: at.Add(9 * 24 * time.Hour), Left: "9d 0h", Lifetime: "10d 0h"},
		{Source: "/etc/kubernetes/pki/etcd/server.crt", Subject: "CN=node-1", Issuer: "CN=etcd-ca", NotAfter: at.Add(300 * 24 * time.Hour), Left: "300d 0h", Lifetime: "365d 0h"},
		{Source: "bad\tsource", Subject: "", Issuer: "CN=multi\nline", NotAfter: at, Left: "0m", Lifetime: "1d 0h"},
	}
	var b bytes.Buffer
	if err := WriteCertTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "certs.table.golden", b.Bytes())
	if bytes.Contains(b.Bytes(), []byte("multi\nline")) {
		t.Error("a newline in a cell broke the table")
	}
}
