package certs

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSignatureMemoIsExact: a remembered check answers only the same
// check. A certificate carrying another one's valid signature over
// different content is still refused, even after that one was verified.
func TestSignatureMemoIsExact(t *testing.T) {
	ca := issue(t, spec{cn: "ca", ca: true, lifetime: 24 * time.Hour}, nil)
	a := issue(t, spec{cn: "a", lifetime: time.Hour}, &ca)
	b := issue(t, spec{cn: "b", lifetime: time.Hour}, &ca)
	forged := *a.cert
	forged.RawTBSCertificate = b.cert.RawTBSCertificate // b's content, a's signature

	for _, cache := range []bool{false, true} {
		inv := &Inventory{}
		if cache {
			c, err := OpenVerifyCache(filepath.Join(t.TempDir(), "v"))
			if err != nil {
				t.Fatal(err)
			}
			inv.UseVerifyCache(c)
		}
		if !inv.signedBy(a.cert, ca.cert) {
			t.Fatalf("cache %v: a is signed by ca", cache)
		}
		if inv.signedBy(&forged, ca.cert) {
			t.Errorf("cache %v: a forged certificate passed on a remembered signature", cache)
		}
		if inv.signedBy(a.cert, b.cert) {
			t.Errorf("cache %v: a is not signed by b", cache)
		}
	}
}

// TestVerifyCacheAcrossRuns: a check that succeeded is answered from the
// file in the next run; failures are checked every time; the file keeps
// only what the last run used; a corrupt file is reported and replaced.
func TestVerifyCacheAcrossRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shipshape", "certs-verified")
	ca := issue(t, spec{cn: "ca", ca: true, lifetime: 24 * time.Hour}, nil)
	other := issue(t, spec{cn: "other", ca: true, lifetime: 24 * time.Hour}, nil)
	a := issue(t, spec{cn: "a", lifetime: time.Hour}, &ca)
	b := issue(t, spec{cn: "b", lifetime: time.Hour}, &ca)

	run := func(check func(c *VerifyCache)) (hits, misses int) {
		t.Helper()
		c, err := OpenVerifyCache(path)
		if err != nil {
			t.Fatal(err)
		}
		check(c)
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		return c.Stats()
	}
	both := func(c *VerifyCache) {
		if !c.Verified(a.cert, ca.cert) || !c.Verified(b.cert, ca.cert) {
			t.Fatal("a and b are signed by ca")
		}
		if c.Verified(a.cert, other.cert) {
			t.Fatal("a is not signed by other")
		}
	}
	if h, m := run(both); h != 0 || m != 3 {
		t.Errorf("first run: %d hits, %d misses; want 0, 3", h, m)
	}
	if h, m := run(both); h != 2 || m != 1 {
		t.Errorf("second run: %d hits, %d misses; want 2 (a, b), 1 (the failure)", h, m)
	}
	// A run that sees only a keeps only a.
	run(func(c *VerifyCache) { c.Verified(a.cert, ca.cert) })
	if h, m := run(both); h != 1 || m != 2 {
		t.Errorf("after a run without b: %d hits, %d misses; want 1, 2", h, m)
	}

	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := OpenVerifyCache(path)
	if err == nil {
		t.Error("a corrupt cache file is not reported")
	}
	if c == nil || !c.Verified(a.cert, ca.cert) {
		t.Fatal("a corrupt cache must still verify")
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenVerifyCache(path); err != nil {
		t.Errorf("the cache was not rewritten: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode: %v %v, want 0600", fi.Mode(), err)
	}
}
