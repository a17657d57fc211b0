package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"time"
)

// ServingChain connects to the API server t points at and returns the
// certificate chain it presents, unverified: the caller judges it. It
// sends no request.
func ServingChain(ctx context.Context, t *Target) (addr string, chain []*x509.Certificate, err error) {
	u, err := url.Parse(t.Host)
	if err != nil {
		return t.Host, nil, fmt.Errorf("api server URL %q: %w", t.Host, err)
	}
	if u.Scheme != "https" {
		return t.Host, nil, fmt.Errorf("api server %s does not use TLS", t.Host)
	}
	addr = u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	cfg := &tls.Config{
		ServerName: u.Hostname(),
		// The chain is read to be judged (expiry, SANs), not trusted, so
		// that an expired chain is reported instead of failing here.
		InsecureSkipVerify: true, //nolint:gosec // see above
		MinVersion:         tls.VersionTLS12,
	}
	if t.Config != nil && t.Config.TLSClientConfig.ServerName != "" {
		cfg.ServerName = t.Config.TLSClientConfig.ServerName
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return addr, nil, fmt.Errorf("read the serving chain of %s: %w", addr, err)
	}
	defer conn.Close()
	return addr, conn.(*tls.Conn).ConnectionState().PeerCertificates, nil
}
