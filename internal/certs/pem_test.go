package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodePEM reads each input block by block with decodePEM and with
// pem.Decode and wants the same blocks and the same rest; the cases the
// shortcut must take are checked to be taken.
func TestDecodePEM(t *testing.T) {
	ca := issue(t, spec{cn: "pem-ca", ca: true, lifetime: 365 * Day}, nil)
	key := newKey(t, 2048)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	crt := string(certPEM(ca.cert))
	k := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	crlf := strings.ReplaceAll(crt, "\n", "\r\n")
	encrypted := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte("secret")}))
	body := strings.TrimSuffix(strings.TrimPrefix(crt, "-----BEGIN CERTIFICATE-----\n"), "-----END CERTIFICATE-----\n")
	for _, tc := range []struct {
		name  string
		in    string
		quick bool // the shortcut takes the first block
	}{
		{"certificate", crt, true},
		{"key", k, true},
		{"bundle", crt + crt + k, true},
		{"crlf", crlf + crlf, true},
		{"no final newline", strings.TrimSuffix(crt, "\n"), true},
		{"text after", crt + "trailing words\n", true},
		{"leading text", "comment\n" + crt, false},
		{"leading newline", "\n" + crt, false},
		{"headers", encrypted, false},
		{"spaces in body", strings.Replace(crt, "\n", " \n", 3), false},
		{"tabs in body", "-----BEGIN CERTIFICATE-----\n\t" + body + "-----END CERTIFICATE-----\n", false},
		{"trailing blanks on type line", strings.Replace(crt, "-----\n", "-----  \n", 1), false},
		{"trailing blanks on end line", strings.Replace(crt, "CERTIFICATE-----\n", "CERTIFICATE-----  \n", 2), false},
		{"end type differs", "-----BEGIN CERTIFICATE-----\n" + body + "-----END PRIVATE KEY-----\n" + crt, false},
		{"end line followed by text", "-----BEGIN CERTIFICATE-----\n" + body + "-----END CERTIFICATE-----x\n" + crt, false},
		{"repeated begin", "-----BEGIN CERTIFICATE-----\n" + crt, false},
		{"no end", "-----BEGIN CERTIFICATE-----\n" + body, false},
		{"bad base64", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n" + crt, false},
		{"empty block", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", false},
		{"dash in type", "-----BEGIN X-Y-----\n" + body + "-----END X-Y-----\n", false},
		{"truncated second block", crt + crt[:len(crt)/2], true},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, ok := quickPEM([]byte(tc.in)); ok != tc.quick {
				t.Errorf("shortcut taken = %v, want %v", ok, tc.quick)
			}
			got, want := []byte(tc.in), []byte(tc.in)
			for i := 0; ; i++ {
				var g, w *pem.Block
				g, got = decodePEM(got)
				w, want = pem.Decode(want)
				if (g == nil) != (w == nil) {
					t.Fatalf("block %d: decodePEM gave %v, pem.Decode %v", i, g != nil, w != nil)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("block %d: rest differs:\n%s", i, cmp.Diff(string(want), string(got)))
				}
				if g == nil {
					break
				}
				if g.Type != w.Type || !bytes.Equal(g.Bytes, w.Bytes) || len(g.Headers) != len(w.Headers) {
					t.Fatalf("block %d: got type %q, %d bytes, %d headers; pem.Decode: %q, %d bytes, %d headers", i, g.Type, len(g.Bytes), len(g.Headers), w.Type, len(w.Bytes), len(w.Headers))
				}
				for k, v := range w.Headers {
					if g.Headers[k] != v {
						t.Errorf("block %d: header %s = %q, want %q", i, k, g.Headers[k], v)
					}
				}
			}
		})
	}
}

// FuzzDecodePEM wants decodePEM to read any data as pem.Decode does.
func FuzzDecodePEM(f *testing.F) {
	f.Add([]byte("-----BEGIN A-----\nAAAA\n-----END A-----\n"))
	f.Add([]byte("-----BEGIN A-----\r\nAAAA\r\n-----END A-----\r\n-----BEGIN B-----\nAA==\n-----END B-----"))
	f.Add([]byte("-----BEGIN A-----\nk: v\n\nAAAA\n-----END A-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, want := data, data
		for range 8 {
			var g, w *pem.Block
			g, got = decodePEM(got)
			w, want = pem.Decode(want)
			if (g == nil) != (w == nil) || !bytes.Equal(got, want) {
				t.Fatalf("decodePEM and pem.Decode differ on %q", data)
			}
			if g == nil {
				return
			}
			if g.Type != w.Type || !bytes.Equal(g.Bytes, w.Bytes) || len(g.Headers) != len(w.Headers) {
				t.Fatalf("blocks differ on %q", data)
			}
		}
	})
}
