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
		"mixed case":    "age1" + strings.ToUpper(key[4:5]) + key[5:],
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
