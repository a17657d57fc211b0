package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// FromChain records the chain a TLS server at addr presented. field names
// the endpoint's role ("apiserver") or is empty.
func FromChain(addr, field string, chain []*x509.Certificate) *Inventory {
	inv := &Inventory{}
	for i, c := range chain {
		inv.Certs = append(inv.Certs, Cert{Certificate: c, Source: Source{Kind: KindEndpoint, Path: addr, Field: field, Index: i}})
	}
	return inv
}

// EndpointProblem records that an endpoint (or the cluster at addr) could
// not be read.
func EndpointProblem(addr string, err error) *Inventory {
	return &Inventory{Problems: []Problem{{Source: Source{Kind: KindEndpoint, Path: addr}, Reason: shortErr(err), Severity: finding.High}}}
}

// Endpoint is a TLS server to read the certificate chain of.
type Endpoint struct {
	// Addr is host:port.
	Addr string
	// ClientCert, when set, is presented to servers that require one (etcd).
	ClientCert *tls.Certificate
}

// DialChain connects to the endpoint and returns the chain it presents. It
// does not verify the chain (the checks judge it) and sends no data.
func DialChain(ctx context.Context, e Endpoint) ([]*x509.Certificate, error) {
	host, _, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: want host:port", e.Addr)
	}
	cfg := &tls.Config{
		ServerName: host,
		// The chain is read to be judged, not trusted: verification is the
		// checks' job, so that an expired or wrongly issued chain is
		// reported instead of failing the handshake.
		InsecureSkipVerify: true, //nolint:gosec // see above
		MinVersion:         tls.VersionTLS12,
	}
	if e.ClientCert != nil {
		cfg.Certificates = []tls.Certificate{*e.ClientCert}
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates, nil
}
