package backup

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/edwards25519"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/curve25519"
)

// x25519Recipient wraps file keys for an age X25519 public key (age1…)
// exactly as age's own X25519 recipient does (the stanza of the age v1
// format: a fresh random ephemeral key per file, X25519, HKDF-SHA256,
// ChaCha20-Poly1305), with one difference in how the ephemeral public key
// is computed: as a fixed-base multiplication on the equivalent Edwards
// curve, with the precomputed tables of filippo.io/edwards25519, mapped to
// its Montgomery u-coordinate. That gives the same 32 bytes as X25519(e, 9)
// (TestEphemeralShareMatchesX25519) five times faster, and a backup
// encrypts one file per Secret. The shared secret is still the plain
// X25519 function. Files decrypt with any age identity and the age CLI
// (TestFastRecipientDecrypts, TestAgeCLIDecrypts).
type x25519Recipient struct {
	pub []byte // the recipient's Curve25519 point, 32 bytes
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
	return &x25519Recipient{pub: data}, nil
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
	shared, err := curve25519.X25519(ephemeral, r.pub) // fails on a low-order point
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
