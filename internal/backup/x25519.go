package backup

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/curve25519"
)

// x25519Recipient wraps file keys for an age X25519 public key (age1…)
// exactly as age's own X25519 recipient does (the stanza of the age v1
// format: a fresh random ephemeral key per file, X25519, HKDF-SHA256,
// ChaCha20-Poly1305), computing the two X25519 products on the equivalent
// Edwards curve with filippo.io/edwards25519's constant-time scalar
// multiplications, mapped back to Montgomery u-coordinates:
//
//   - the ephemeral share X25519(e, 9) as a fixed-base multiplication, with
//     the library's precomputed tables;
//   - the shared secret X25519(e, R) as e·P, where P is the recipient's
//     point, converted once when the key is parsed.
//
// golang.org/x/crypto/curve25519.X25519 runs two Montgomery ladders per
// call (crypto/ecdh derives the public key of every private key it
// makes), so age spends four ladders per file; this spends one fixed-base
// and one variable-base multiplication, and a backup encrypts one file per
// Secret. Both products are the same 32 bytes as X25519
// (TestEphemeralShareMatchesX25519, TestSharedSecretMatchesX25519). A
// recipient point that does not convert exactly (not canonical, on the
// twist, or with a small-order component, none of which an age key
// generator makes) keeps the plain X25519 function. Files decrypt with any
// age identity and with the age CLI (TestFastRecipientDecrypts,
// TestAgeCLIDecryptsFastRecipient).
type x25519Recipient struct {
	pub   []byte              // the recipient's Curve25519 u-coordinate, 32 bytes
	point *edwards25519.Point // the same point on the Edwards curve; nil: use X25519
}

const x25519Label = "age-encryption.org/v1/X25519"

var _ age.Recipient = (*x25519Recipient)(nil)

func newX25519Recipient(s string) (*x25519Recipient, error) {
	hrp, data, err := bech32Decode(s)
	if err != nil {
		return nil, err
	}
	if hrp != "age" {
		return nil, fmt.Errorf("type %q, want age", hrp)
	}
	if len(data) != curve25519.PointSize {
		return nil, fmt.Errorf("key of %d bytes, want %d", len(data), curve25519.PointSize)
	}
	return &x25519Recipient{pub: data, point: edwardsPoint(data)}, nil
}

// edwardsPoint returns the Edwards point whose Montgomery u-coordinate is
// u, when the scalar multiples of that point have exactly X25519's
// u-coordinates: u canonical, on the curve, and the point of prime order.
// Otherwise it returns nil.
func edwardsPoint(u []byte) *edwards25519.Point {
	fu, err := new(field.Element).SetBytes(u)
	if err != nil || !bytes.Equal(fu.Bytes(), u) {
		return nil // the top bit set, or a value of p or more
	}
	// The birational map of RFC 7748, section 4.1: y = (u-1)/(u+1). The
	// sign of x does not matter: P and -P have the same u.
	one := new(field.Element).One()
	den := new(field.Element).Add(fu, one)
	y := new(field.Element).Multiply(new(field.Element).Subtract(fu, one), new(field.Element).Invert(den))
	p, err := new(edwards25519.Point).SetBytes(y.Bytes())
	if err != nil || !bytes.Equal(p.BytesMontgomery(), u) || p.Equal(edwards25519.NewIdentityPoint()) == 1 {
		return nil // on the twist, or u = -1, or the identity
	}
	// With P = P0 + T (T of order 1, 2, 4 or 8) and c = 1/8 mod l,
	// 8·(c·P) = P0: equal to P only when T is the identity. X25519's scalars
	// are multiples of 8 and clear T, the Edwards scalars are reduced mod l
	// and would not.
	c, err := new(edwards25519.Scalar).SetCanonicalBytes(append([]byte{8}, make([]byte, 31)...))
	if err != nil {
		return nil
	}
	c.Invert(c)
	if new(edwards25519.Point).MultByCofactor(new(edwards25519.Point).ScalarMult(c, p)).Equal(p) != 1 {
		return nil
	}
	return p
}

// sharedSecret returns X25519(scalar, r.pub).
func (r *x25519Recipient) sharedSecret(scalar []byte) ([]byte, error) {
	if r.point == nil {
		return curve25519.X25519(scalar, r.pub) // fails on a low-order point
	}
	s, err := new(edwards25519.Scalar).SetBytesWithClamping(scalar)
	if err != nil {
		return nil, err
	}
	out := new(edwards25519.Point).ScalarMult(s, r.point).BytesMontgomery()
	if bytes.Equal(out, make([]byte, 32)) {
		return nil, errors.New("X25519: all-zero shared secret")
	}
	return out, nil
}

// ephemeralShare returns X25519(scalar, basepoint) for a 32-byte scalar.
func ephemeralShare(scalar []byte) ([]byte, error) {
	s, err := new(edwards25519.Scalar).SetBytesWithClamping(scalar)
	if err != nil {
		return nil, err
	}
	return new(edwards25519.Point).ScalarBaseMult(s).BytesMontgomery(), nil
}

func (r *x25519Recipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	ephemeral := make([]byte, curve25519.ScalarSize)
	if _, err := rand.Read(ephemeral); err != nil {
		return nil, err
	}
	share, err := ephemeralShare(ephemeral)
	if err != nil {
		return nil, err
	}
	shared, err := r.sharedSecret(ephemeral)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 0, 2*curve25519.PointSize)
	salt = append(append(salt, share...), r.pub...)
	key, err := hkdf.Key(sha256.New, shared, salt, x25519Label, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	// A zero nonce, as the format specifies: the key is used once.
	body := aead.Seal(nil, make([]byte, chacha20poly1305.NonceSize), fileKey, nil)
	return []*age.Stanza{{
		Type: "X25519",
		Args: []string{base64.RawStdEncoding.EncodeToString(share)},
		Body: body,
	}}, nil
}

// bech32Decode decodes a Bech32 string (BIP 173) into its human-readable
// part and its data, regrouped from 5-bit to 8-bit groups. age keys are
// longer than BIP 173's 90 characters, so the length is not limited.
func bech32Decode(s string) (string, []byte, error) {
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return "", nil, errors.New("mixed case")
	}
	s = strings.ToLower(s)
	sep := strings.LastIndexByte(s, '1')
	if sep < 1 || sep+7 > len(s) {
		return "", nil, errors.New("no separator, or too short")
	}
	hrp := s[:sep]
	for i := 0; i < len(hrp); i++ {
		if hrp[i] < 33 || hrp[i] > 126 {
			return "", nil, errors.New("invalid character in the prefix")
		}
	}
	values := make([]byte, 0, len(s)-sep-1)
	for i := sep + 1; i < len(s); i++ {
		v := strings.IndexByte(bech32Charset, s[i])
		if v < 0 {
			return "", nil, fmt.Errorf("invalid character %q", s[i])
		}
		values = append(values, byte(v))
	}
	if bech32Polymod(hrp, values) != 1 {
		return "", nil, errors.New("bad checksum")
	}
	values = values[:len(values)-6]
	// Regroup 5-bit values into bytes; leftover bits must be fewer than 5
	// and zero.
	var out []byte
	acc, bits := 0, 0
	for _, v := range values {
		acc = acc<<5 | int(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	if bits >= 5 || acc != 0 {
		return "", nil, errors.New("invalid padding")
	}
	return hrp, out, nil
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32Polymod is BIP 173's checksum over the expanded prefix and the values.
func bech32Polymod(hrp string, values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	step := func(v byte) {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range gen {
			if top>>i&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	for i := 0; i < len(hrp); i++ {
		step(hrp[i] >> 5)
	}
	step(0)
	for i := 0; i < len(hrp); i++ {
		step(hrp[i] & 31)
	}
	for _, v := range values {
		step(v)
	}
	return chk
}
