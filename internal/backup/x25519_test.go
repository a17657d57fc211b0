package backup

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/edwards25519"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/ssh"
)

func TestEphemeralShareMatchesX25519(t *testing.T) {
	scalars := [][]byte{
		make([]byte, 32),                       // clamps to 2^254
		bytes.Repeat([]byte{0xff}, 32),         // every bit set
		append([]byte{7}, make([]byte, 31)...), // low bits cleared by clamping
	}
	for range 2000 {
		k := make([]byte, 32)
		rand.Read(k)
		scalars = append(scalars, k)
	}
	for _, k := range scalars {
		want, err := curve25519.X25519(k, curve25519.Basepoint)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ephemeralShare(k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("scalar %x: got %x, want %x", k, got, want)
		}
	}
}

func TestBech32DecodeAgeKeys(t *testing.T) {
	for range 50 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		hrp, pub, err := bech32Decode(id.Recipient().String())
		if err != nil || hrp != "age" {
			t.Fatalf("recipient: hrp %q, err %v", hrp, err)
		}
		hrp, secret, err := bech32Decode(id.String()) // upper case
		if err != nil || hrp != "age-secret-key-" {
			t.Fatalf("identity: hrp %q, err %v", hrp, err)
		}
		want, err := curve25519.X25519(secret, curve25519.Basepoint)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pub, want) {
			t.Fatalf("decoded public key %x is not the identity's %x", pub, want)
		}
	}
}

func TestBech32Rejects(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	key := id.Recipient().String()
	// BIP 173's own valid strings decode.
	for _, s := range []string{"A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "?1ezyfcl"} {
		if _, _, err := bech32Decode(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := map[string]string{
		"mixed case":    mixedCase(key),
		"no separator":  "agexyz",
		"bad character": key[:10] + "b" + key[11:], // b is not in the alphabet
		"too short":     "age1qqqq",
	}
	// Every single-character change breaks the checksum.
	for i := 4; i < len(key); i++ {
		for _, c := range bech32Charset {
			if byte(c) == key[i] {
				continue
			}
			if _, _, err := bech32Decode(key[:i] + string(c) + key[i+1:]); err == nil {
				t.Fatalf("changing character %d to %c: accepted", i, c)
			}
		}
	}
	for name, s := range bad {
		if _, _, err := bech32Decode(s); err == nil {
			t.Errorf("%s: %q accepted", name, s)
		}
	}
	if _, err := newX25519Recipient("age-secret-key-" + key[3:]); err == nil {
		t.Error("a key with another prefix was accepted as a recipient")
	}
}

func TestFastRecipientDecrypts(t *testing.T) {
	id, r := testKey(t)
	if _, ok := r.Recipient.(*x25519Recipient); !ok {
		t.Fatalf("age1 key parsed as %T, want the fixed-base X25519 recipient", r.Recipient)
	}
	plain := []byte("password: c2VjcmV0\n")
	a, err := encrypt(plain, []Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	b, err := encrypt(plain, []Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions of the same data are identical: the ephemeral key is not fresh")
	}
	for _, ct := range [][]byte{a, b} {
		got, err := decrypt(ct, []age.Identity{id})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("decrypted %q, want %q", got, plain)
		}
	}
	other, _ := testKey(t)
	if _, err := decrypt(a, []age.Identity{other}); err != ErrNoIdentity {
		t.Errorf("another identity: err = %v, want ErrNoIdentity", err)
	}

	// Mixed with an ssh recipient in one file: either key opens it.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := ParseRecipient(string(ssh.MarshalAuthorizedKey(sp)))
	if err != nil {
		t.Fatal(err)
	}
	sid, err := agessh.NewEd25519Identity(priv)
	if err != nil {
		t.Fatal(err)
	}
	mixed, err := encrypt(plain, []Recipient{r, sr})
	if err != nil {
		t.Fatal(err)
	}
	for _, ids := range [][]age.Identity{{id}, {sid}} {
		if got, err := decrypt(mixed, ids); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("mixed recipients: %q, %v", got, err)
		}
	}
}

func TestAgeCLIDecryptsFastRecipient(t *testing.T) {
	ageBin, err := exec.LookPath("age")
	if err != nil {
		t.Skip("the age CLI is not installed (make test-tools installs the Debian package age)")
	}
	id, r := testKey(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plain := []byte("token: aGVsbG8=\n")
	for i := range 20 { // each with its own ephemeral key
		ct, err := encrypt(plain, []Recipient{r})
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, "s.age")
		if err := os.WriteFile(f, ct, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := exec.Command(ageBin, "-d", "-i", keyFile, f).Output()
		if err != nil {
			t.Fatalf("file %d: age -d: %v", i, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("file %d: age -d gave %q", i, got)
		}
	}
}

func TestSharedSecretMatchesX25519(t *testing.T) {
	check := func(t *testing.T, r *x25519Recipient, n int) {
		t.Helper()
		for range n {
			e := make([]byte, 32)
			rand.Read(e)
			want, err := curve25519.X25519(e, r.pub)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.sharedSecret(e)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("point %x, scalar %x: got %x, want %x", r.pub, e, got, want)
			}
		}
	}
	var honest *x25519Recipient
	for range 100 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		r, err := newX25519Recipient(id.Recipient().String())
		if err != nil {
			t.Fatal(err)
		}
		if r.point == nil {
			t.Fatalf("%s: not converted to an Edwards point", id.Recipient())
		}
		check(t, r, 20)
		honest = r
	}

	// A point with a small-order component: the Edwards product with a
	// reduced scalar would differ from X25519, so it must keep X25519.
	small, err := new(edwards25519.Point).SetBytes(make([]byte, 32)) // y = 0: order 4
	if err != nil {
		t.Fatal(err)
	}
	if small.Equal(edwards25519.NewIdentityPoint()) == 1 || new(edwards25519.Point).MultByCofactor(small).Equal(edwards25519.NewIdentityPoint()) != 1 {
		t.Fatal("the test point is not of small order")
	}
	mixed := new(edwards25519.Point).Add(honest.point, small)
	u := mixed.BytesMontgomery()
	if edwardsPoint(u) != nil {
		t.Fatal("a point with a small-order component was converted")
	}
	differs := false
	for range 20 {
		e := make([]byte, 32)
		rand.Read(e)
		s, _ := new(edwards25519.Scalar).SetBytesWithClamping(e)
		want, _ := curve25519.X25519(e, u)
		if !bytes.Equal(new(edwards25519.Point).ScalarMult(s, mixed).BytesMontgomery(), want) {
			differs = true
		}
	}
	if !differs {
		t.Fatal("the small-order component made no difference: the test proves nothing")
	}
	check(t, &x25519Recipient{pub: u, point: edwardsPoint(u)}, 20)

	// Values X25519 accepts that are not canonical points on the curve.
	var odd [][]byte
	for v := byte(2); v < 40; v++ {
		b := append([]byte{v}, make([]byte, 31)...)
		if edwardsPoint(b) == nil {
			odd = append(odd, b) // on the twist
		}
	}
	if len(odd) == 0 {
		t.Fatal("no twist point among 2..39")
	}
	top := bytes.Clone(honest.pub)
	top[31] |= 0x80
	odd = append(odd, top)
	for _, b := range odd {
		if edwardsPoint(b) != nil {
			t.Fatalf("%x converted", b)
		}
		check(t, &x25519Recipient{pub: b}, 5)
	}
}

// mixedCase upper-cases the first letter of a Bech32 string's data part.
func mixedCase(s string) string {
	for i := 4; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'z' {
			return s[:i] + strings.ToUpper(s[i:i+1]) + s[i+1:]
		}
	}
	return s
}
