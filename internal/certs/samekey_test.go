package certs

import (
	"crypto"
	"crypto/rsa"
	"math/big"
	"testing"
)

// TestSamePublicKey: RSA keys are equal by modulus and exponent only, and
// never equal to a key of another type.
func TestSamePublicKey(t *testing.T) {
	r := newKey(t, 2048).Public().(*rsa.PublicKey)
	ec := newKey(t, 0).Public()
	copyOf := &rsa.PublicKey{N: new(big.Int).Set(r.N), E: r.E}
	otherN := &rsa.PublicKey{N: new(big.Int).Add(r.N, big.NewInt(2)), E: r.E}
	otherE := &rsa.PublicKey{N: r.N, E: 3}
	for _, tc := range []struct {
		name string
		a, b crypto.PublicKey
		want bool
	}{
		{"rsa copy", r, copyOf, true},
		{"rsa other modulus", r, otherN, false},
		{"rsa other exponent", r, otherE, false},
		{"rsa and ecdsa", r, ec, false},
		{"ecdsa and rsa", ec, r, false},
		{"ecdsa itself", ec, ec, true},
		{"rsa without modulus", r, &rsa.PublicKey{E: r.E}, false},
	} {
		if got := samePublicKey(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: samePublicKey = %v, want %v", tc.name, got, tc.want)
		}
	}
}
