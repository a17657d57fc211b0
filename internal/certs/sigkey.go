package certs

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
)

// sigKey names one signature check exactly: the child's signed bytes, its
// signature algorithm and signature, and the whole parent certificate
// (CheckSignatureFrom also judges the parent's CA constraints, not only its
// key). Equal keys mean the same check, whose answer cannot differ.
func sigKey(child, parent *x509.Certificate) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, part := range [][]byte{child.RawTBSCertificate, child.Signature, parent.Raw} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	binary.BigEndian.PutUint64(n[:], uint64(child.SignatureAlgorithm))
	h.Write(n[:])
	var k [32]byte
	h.Sum(k[:0])
	return k
}
