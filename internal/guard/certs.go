package guard

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"
)

// CA is the guard's own certificate authority. Its certificate is the
// webhook's caBundle; its key signs the serving certificates.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
}

// NewCA creates a self-signed CA valid from now for validity.
func NewCA(now time.Time, validity time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "shipshape-guard-ca"},
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode CA key: %w", err)
	}
	return ParseCA(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

// ParseCA reads a CA certificate and its PKCS#8 key from PEM.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("parse CA: no CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	if !cert.IsCA {
		return nil, errors.New("parse CA: certificate is not a CA")
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New("parse CA: no key block")
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse CA key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("parse CA: key cannot sign")
	}
	return &CA{Cert: cert, Key: signer, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// CertOptions tune the serving certificate.
type CertOptions struct {
	// Hosts are the DNS names and IP addresses the certificate is for, e.g.
	// shipshape-guard.shipshape-guard.svc.
	Hosts []string
	// Validity of each serving certificate; default 30 days.
	Validity time.Duration
	// RenewBefore is how long before expiry a new one is issued; default a
	// third of Validity.
	RenewBefore time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// CertManager issues the guard's serving certificate from its CA, renews it
// well before expiry and serves the current one to TLS handshakes.
type CertManager struct {
	ca   *CA
	opts CertOptions

	mu   sync.RWMutex
	cert *tls.Certificate
	leaf *x509.Certificate
}

// NewCertManager issues the first serving certificate.
func NewCertManager(ca *CA, opts CertOptions) (*CertManager, error) {
	if len(opts.Hosts) == 0 {
		return nil, errors.New("serving certificate: no hosts")
	}
	if opts.Validity <= 0 {
		opts.Validity = 30 * 24 * time.Hour
	}
	if opts.RenewBefore <= 0 || opts.RenewBefore >= opts.Validity {
		opts.RenewBefore = opts.Validity / 3
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &CertManager{ca: ca, opts: opts}
	if err := m.issue(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *CertManager) issue() error {
	now := m.opts.Now()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate serving key: %w", err)
	}
	notAfter := now.Add(m.opts.Validity)
	if notAfter.After(m.ca.Cert.NotAfter) {
		notAfter = m.ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: m.opts.Hosts[0]},
		NotBefore:    now.Add(-5 * time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range m.opts.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, m.ca.Cert, key.Public(), m.ca.Key)
	if err != nil {
		return fmt.Errorf("sign serving certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("parse serving certificate: %w", err)
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	m.mu.Lock()
	m.cert, m.leaf = c, leaf
	m.mu.Unlock()
	return nil
}

// GetCertificate is tls.Config.GetCertificate: every handshake gets the
// current certificate, so a renewal takes effect without a restart.
func (m *CertManager) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cert, nil
}

// NotAfter returns the current serving certificate's expiry.
func (m *CertManager) NotAfter() time.Time {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.leaf.NotAfter
}

// Serial returns the current serving certificate's serial number.
func (m *CertManager) Serial() *big.Int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.leaf.SerialNumber
}

// CA returns the manager's CA.
func (m *CertManager) CA() *CA { return m.ca }

// RenewIfDue issues a new serving certificate when the current one expires
// within RenewBefore, and reports whether it did.
func (m *CertManager) RenewIfDue() (bool, error) {
	if m.opts.Now().Before(m.NotAfter().Add(-m.opts.RenewBefore)) {
		return false, nil
	}
	return true, m.issue()
}

// Run calls RenewIfDue every interval until ctx ends; errors go to onErr
// and are retried at the next tick.
func (m *CertManager) Run(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := m.RenewIfDue(); err != nil && onErr != nil {
				onErr(err)
			}
		}
	}
}

// TLSConfig returns a server TLS configuration that serves the manager's
// current certificate.
func (m *CertManager) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: m.GetCertificate}
}
