package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// parsed counts what one value held.
type parsed struct {
	certs, keys int
	// firstCert and firstKey are the sources of the first certificate and
	// key, for pairing.
	firstCert, firstKey Source
}

// ParseOptions says how strict Parse is about values that hold nothing.
type ParseOptions struct {
	// Required makes a value without any certificate or key a problem;
	// otherwise it is silently skipped (a ConfigMap value that is no PEM).
	Required bool
}

// Parse reads PEM (any number of blocks), DER or PKCS#12 (without a
// password) data found at src and adds what it holds to inv. Anything it
// cannot read becomes a Problem; Parse never fails.
func Parse(inv *Inventory, data []byte, src Source, o ParseOptions) {
	_ = parse(inv, data, src, o)
}

func parse(inv *Inventory, data []byte, src Source, o ParseOptions) parsed {
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return parsePEM(inv, data, src)
	}
	var p parsed
	if len(bytes.TrimSpace(data)) == 0 {
		if o.Required {
			inv.Problems = append(inv.Problems, Problem{Source: src, Reason: "empty: no certificate or key", Severity: finding.Medium})
		}
		return p
	}
	if certs, err := x509.ParseCertificates(data); err == nil && len(certs) > 0 {
		for i, c := range certs {
			s := src
			s.Index = i
			p.add(inv, c, s)
		}
		return p
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, "")
	if err != nil {
		if trust, terr := pkcs12.DecodeTrustStore(data, ""); terr == nil {
			for i, c := range trust {
				s := src
				s.Index = i
				p.add(inv, c, s)
			}
			return p
		}
	}
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption):
		inv.Problems = append(inv.Problems, Problem{Source: src, Reason: "PKCS#12 file protected by a password: its certificates cannot be checked", Severity: finding.Medium})
		return p
	case err == nil:
		p.add(inv, leaf, src)
		for i, c := range cas {
			s := src
			s.Index = i + 1
			p.add(inv, c, s)
		}
		if pub := publicOf(key); pub != nil {
			p.addKey(inv, pub, src, true)
		}
		return p
	}
	if o.Required {
		inv.Problems = append(inv.Problems, Problem{Source: src, Reason: "not a PEM, DER or PKCS#12 certificate or key", Severity: finding.Medium})
	}
	return p
}

func (p *parsed) add(inv *Inventory, c *x509.Certificate, s Source) {
	if p.certs == 0 {
		p.firstCert = s
	}
	p.certs++
	inv.Certs = append(inv.Certs, Cert{Certificate: c, Source: s})
}

func (p *parsed) addKey(inv *Inventory, pub crypto.PublicKey, s Source, private bool) {
	if p.keys == 0 {
		p.firstKey = s
	}
	p.keys++
	inv.Keys = append(inv.Keys, Key{Public: pub, Source: s, Private: private})
}

func parsePEM(inv *Inventory, data []byte, src Source) parsed {
	var p parsed
	rest := data
	block := 0
	for {
		var b *pem.Block
		b, rest = decodePEM(rest)
		if b == nil {
			break
		}
		s := src
		s.Index = block
		block++
		switch b.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE":
			c, err := inv.parseCertificate(b.Bytes)
			if err != nil {
				inv.Problems = append(inv.Problems, Problem{Source: s, Reason: "PEM CERTIFICATE block does not parse: " + shortErr(err), Severity: finding.Medium})
				continue
			}
			s.Index = p.certs
			p.add(inv, c, s)
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
			s.Index = 0
			if strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
				inv.Problems = append(inv.Problems, Problem{Source: s, Reason: "private key is encrypted: it cannot be matched with its certificate", Severity: finding.Low})
				continue
			}
			pub, err := parsePrivate(b)
			if err != nil {
				inv.Problems = append(inv.Problems, Problem{Source: s, Reason: "PEM " + b.Type + " block does not parse: " + shortErr(err), Severity: finding.Medium})
				continue
			}
			p.addKey(inv, pub, s, true)
		case "ENCRYPTED PRIVATE KEY":
			s.Index = 0
			inv.Problems = append(inv.Problems, Problem{Source: s, Reason: "private key is encrypted: it cannot be matched with its certificate", Severity: finding.Low})
		case "PUBLIC KEY", "RSA PUBLIC KEY":
			s.Index = 0
			var pub crypto.PublicKey
			var err error
			if b.Type == "PUBLIC KEY" {
				pub, err = x509.ParsePKIXPublicKey(b.Bytes)
			} else {
				pub, err = x509.ParsePKCS1PublicKey(b.Bytes)
			}
			if err != nil {
				inv.Problems = append(inv.Problems, Problem{Source: s, Reason: "PEM " + b.Type + " block does not parse: " + shortErr(err), Severity: finding.Medium})
				continue
			}
			p.addKey(inv, pub, s, false)
		}
	}
	if i := bytes.Index(rest, []byte("-----BEGIN")); i >= 0 {
		s := src
		s.Index = 0
		inv.Problems = append(inv.Problems, Problem{Source: s, Reason: fmt.Sprintf("PEM block %d is truncated or malformed (no matching END line or bad base64)", block+1), Severity: finding.Medium})
	}
	return p
}

// decodePEM is pem.Decode, with a shortcut for the common case of a block
// that starts the data, has no headers and is followed only by a line end:
// pem.Decode searches each block backwards for its BEGIN line, which costs
// more than decoding it. Whatever the shortcut does not take is left to
// pem.Decode, and what it takes, pem.Decode would read the same (see
// TestDecodePEM).
func decodePEM(data []byte) (*pem.Block, []byte) {
	if b, rest, ok := quickPEM(data); ok {
		return b, rest
	}
	return pem.Decode(data)
}

func quickPEM(data []byte) (*pem.Block, []byte, bool) {
	const begin, end, dashes = "-----BEGIN ", "-----END ", "-----"
	if !bytes.HasPrefix(data, []byte(begin)) {
		return nil, nil, false
	}
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		return nil, nil, false
	}
	line := bytes.TrimSuffix(data[:nl], []byte("\r"))
	if !bytes.HasSuffix(line, []byte(dashes)) || len(line) <= len(begin)+len(dashes) {
		return nil, nil, false
	}
	typ := line[len(begin) : len(line)-len(dashes)]
	if bytes.IndexByte(typ, '-') >= 0 {
		return nil, nil, false
	}
	body := data[nl+1:]
	e := bytes.Index(body, []byte(end))
	// Base64 holds no '-' (so no other BEGIN or END line) and no ':' (so
	// no headers); spaces and tabs make Decode fail below.
	if e <= 0 || body[e-1] != '\n' || bytes.IndexByte(body[:e], '-') >= 0 || bytes.IndexByte(body[:e], ':') >= 0 {
		return nil, nil, false
	}
	trailer := body[e+len(end):]
	if !bytes.HasPrefix(trailer, typ) || !bytes.HasPrefix(trailer[len(typ):], []byte(dashes)) {
		return nil, nil, false
	}
	rest := trailer[len(typ)+len(dashes):]
	switch {
	case len(rest) == 0:
	case rest[0] == '\n':
		rest = rest[1:]
	case len(rest) > 1 && rest[0] == '\r' && rest[1] == '\n':
		rest = rest[2:]
	default:
		return nil, nil, false
	}
	der := make([]byte, base64.StdEncoding.DecodedLen(e))
	// The decoder skips the line ends, as pem.Decode relies on too.
	n, err := base64.StdEncoding.Decode(der, body[:e])
	if err != nil {
		return nil, nil, false
	}
	return &pem.Block{Type: string(typ), Bytes: der[:n]}, rest, true
}

// parsePrivate returns the public half of a PEM private key.
//
// RSA keys, and EC keys that carry their public point, are read from the
// public fields of the key structure (modulus and exponent, the SEC 1
// publicKey) rather than by parsing and validating the whole private key:
// that is what tells whether the key belongs to a certificate, and it is
// about a hundred times cheaper, which matters with thousands of TLS
// Secrets. Other keys are parsed in full.
func parsePrivate(b *pem.Block) (crypto.PublicKey, error) {
	if pub, ok := publicFields(b.Type, b.Bytes); ok {
		return pub, nil
	}
	var key any
	var err error
	switch b.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, err
	}
	pub := publicOf(key)
	if pub == nil {
		return nil, fmt.Errorf("unsupported key type %T", key)
	}
	return pub, nil
}

// publicOf returns the public key of a private key, or nil.
func publicOf(key any) crypto.PublicKey {
	if s, ok := key.(crypto.Signer); ok {
		return s.Public()
	}
	return nil
}

// shortErr keeps the first line of an error and never includes data.
func shortErr(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// samePublicKey compares two public keys.
func samePublicKey(a, b crypto.PublicKey) bool {
	// RSA keys by value, without the copies rsa.PublicKey.Equal makes to
	// compare in constant time, which public keys do not need.
	if ra, ok := a.(*rsa.PublicKey); ok {
		rb, ok := b.(*rsa.PublicKey)
		return ok && ra.N != nil && rb.N != nil && ra.E == rb.E && ra.N.Cmp(rb.N) == 0
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := a.(equaler); ok {
		return e.Equal(b)
	}
	return false
}

// parseCertificate parses a CA certificate once per distinct DER: the
// cluster CA alone is copied into many Secrets and ConfigMaps. Leaves are
// rarely copied, and remembering each would copy its DER into the cache.
func (inv *Inventory) parseCertificate(der []byte) (*x509.Certificate, error) {
	if c, ok := inv.parsed[string(der)]; ok {
		return c, nil
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if !c.IsCA {
		return c, nil
	}
	if inv.parsed == nil {
		inv.parsed = map[string]*x509.Certificate{}
	}
	inv.parsed[string(der)] = c
	return c, nil
}

// pkcs1Head is the start of a PKCS #1 RSAPrivateKey.
type pkcs1Head struct {
	Version int
	N       *big.Int
	E       int
	Rest    []asn1.RawValue `asn1:"optional"`
}

// sec1Key is a SEC 1 ECPrivateKey.
type sec1Key struct {
	Version    int
	PrivateKey []byte
	Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// pkcs8Key is a PKCS #8 PrivateKeyInfo.
type pkcs8Key struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
	Rest       []asn1.RawValue `asn1:"optional"`
}

var (
	oidRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidEC  = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
)

var namedCurves = map[string]elliptic.Curve{
	"1.2.840.10045.3.1.7": elliptic.P256(),
	"1.3.132.0.34":        elliptic.P384(),
	"1.3.132.0.35":        elliptic.P521(),
}

// publicFields reads the public key stored in a private key structure; ok
// is false when there is none to read (the caller then parses in full).
func publicFields(typ string, der []byte) (crypto.PublicKey, bool) {
	switch typ {
	case "RSA PRIVATE KEY":
		return rsaPublic(der)
	case "EC PRIVATE KEY":
		return ecPublic(der, nil)
	case "PRIVATE KEY":
		var k pkcs8Key
		if rest, err := asn1.Unmarshal(der, &k); err != nil || len(rest) > 0 {
			return nil, false
		}
		switch {
		case k.Algorithm.Algorithm.Equal(oidRSA):
			return rsaPublic(k.PrivateKey)
		case k.Algorithm.Algorithm.Equal(oidEC):
			var curve asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(k.Algorithm.Parameters.FullBytes, &curve); err != nil {
				return nil, false
			}
			return ecPublic(k.PrivateKey, curve)
		}
	}
	return nil, false
}

func rsaPublic(der []byte) (crypto.PublicKey, bool) {
	var h pkcs1Head
	if rest, err := asn1.Unmarshal(der, &h); err != nil || len(rest) > 0 || h.N == nil || h.N.Sign() <= 0 || h.E < 2 {
		return nil, false
	}
	return &rsa.PublicKey{N: h.N, E: h.E}, true
}

func ecPublic(der []byte, curveOID asn1.ObjectIdentifier) (crypto.PublicKey, bool) {
	var k sec1Key
	if rest, err := asn1.Unmarshal(der, &k); err != nil || len(rest) > 0 || k.PublicKey.BitLength == 0 {
		return nil, false
	}
	if len(k.Curve) > 0 {
		curveOID = k.Curve
	}
	curve, ok := namedCurves[curveOID.String()]
	if !ok {
		return nil, false
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, k.PublicKey.Bytes)
	if err != nil {
		return nil, false
	}
	return pub, true
}
