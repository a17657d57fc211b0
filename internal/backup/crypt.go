package backup

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
)

// Recipient is a public key Secret data is encrypted to, with the text it
// was given as (recorded in manifest.yaml).
type Recipient struct {
	age.Recipient
	Text string
}

// ParseRecipient parses an age public key (age1…, age1pq1…) or an ssh
// public key (ssh-ed25519 …, ssh-rsa …).
func ParseRecipient(s string) (Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "ssh-"):
		r, err := agessh.ParseRecipient(s)
		if err != nil {
			return Recipient{}, fmt.Errorf("parse ssh recipient: %w", err)
		}
		return Recipient{r, s}, nil
	case strings.HasPrefix(s, "age1"):
		rs, err := age.ParseRecipients(strings.NewReader(s))
		if err != nil {
			return Recipient{}, fmt.Errorf("parse age recipient: %w", err)
		}
		if len(rs) != 1 {
			return Recipient{}, fmt.Errorf("parse age recipient: want one key, got %d", len(rs))
		}
		if _, ok := rs[0].(*age.X25519Recipient); ok {
			r, err := newX25519Recipient(s)
			if err != nil {
				return Recipient{}, fmt.Errorf("parse age recipient: %w", err)
			}
			return Recipient{r, s}, nil
		}
		return Recipient{rs[0], s}, nil
	case s == "":
		return Recipient{}, errors.New("empty recipient")
	default:
		return Recipient{}, fmt.Errorf("recipient %q: want an age public key (age1…) or an ssh public key (ssh-ed25519 …, ssh-rsa …)", short(s))
	}
}

// ParseRecipientsFile reads one recipient per line; blank lines and lines
// starting with # are ignored. Errors name the file and line.
func ParseRecipientsFile(path string) ([]Recipient, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read recipients: %w", err)
	}
	defer f.Close()
	var out []Recipient
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := ParseRecipient(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read recipients %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no recipients in file", path)
	}
	return out, nil
}

// ParseIdentities reads an age identity file (AGE-SECRET-KEY-1… lines) or an
// unencrypted ssh private key (ed25519 or RSA, PEM).
func ParseIdentities(path string) ([]age.Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read identity: %w", err)
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		id, err := agessh.ParseIdentity(data)
		if err != nil {
			return nil, fmt.Errorf("identity %s: parse ssh private key: %w", path, err)
		}
		return []age.Identity{id}, nil
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("identity %s: %w", path, err)
	}
	return ids, nil
}

// encrypt returns plaintext encrypted to the recipients, ASCII-armored, so
// that `age -d -i KEY FILE` decrypts it.
func encrypt(plaintext []byte, recipients []Recipient) ([]byte, error) {
	rs := make([]age.Recipient, len(recipients))
	for i, r := range recipients {
		rs[i] = r.Recipient
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, rs...)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return buf.Bytes(), nil
}

// ErrNoIdentity means no given identity could decrypt a file.
var ErrNoIdentity = errors.New("none of the given identities can decrypt it (wrong --identity?)")

// decrypt opens an armored (or binary) age file.
func decrypt(ciphertext []byte, ids []age.Identity) ([]byte, error) {
	if len(ids) == 0 {
		return nil, errors.New("no identity given")
	}
	var src io.Reader = bytes.NewReader(ciphertext)
	if bytes.HasPrefix(bytes.TrimSpace(ciphertext), []byte("-----BEGIN AGE ENCRYPTED FILE-----")) {
		src = armor.NewReader(bytes.NewReader(bytes.TrimSpace(ciphertext)))
	}
	r, err := age.Decrypt(src, ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, ErrNoIdentity
		}
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxFileBytes {
		return nil, fmt.Errorf("decrypted data larger than %d bytes", maxFileBytes)
	}
	return out, nil
}

// mac is the hex HMAC-SHA256 of data under key.
func mac(key, data []byte) string {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func sha(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// short cuts s for an error message, so that a pasted private key is never echoed whole.
func short(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
