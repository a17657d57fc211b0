package certs

import (
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

	inv := &Inventory{}
	if !inv.signedBy(a.cert, ca.cert) {
		t.Fatal("a is signed by ca")
	}
	if inv.signedBy(&forged, ca.cert) {
		t.Error("a forged certificate passed on a remembered signature")
	}
	if inv.signedBy(a.cert, b.cert) {
		t.Error("a is not signed by b")
	}
	if !inv.signedBy(a.cert, ca.cert) {
		t.Error("the remembered answer changed")
	}
}
