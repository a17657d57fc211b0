package certs

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
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

// VerifyCache remembers, across runs, the signature checks that succeeded,
// so that a scan repeated every few minutes (a metrics cron job) verifies
// only certificates it has not seen before. A check is looked up by sigKey,
// which covers everything the check reads, so a hit gives the answer the
// check would; failures are never remembered. Save writes back only the
// checks used in this run, so the file holds what the cluster holds now.
//
// The file is as trustworthy as the directory it lives in: whoever can
// write it can hide a broken chain from shipshape (and could as well
// replace shipshape). --no-verify-cache does without it.
type VerifyCache struct {
	path string

	mu     sync.Mutex
	known  map[[32]byte]bool
	used   map[[32]byte]bool
	hits   int
	misses int
}

// verifyCacheMagic starts the file; 32-byte keys follow, sorted.
const verifyCacheMagic = "shipshape verify cache v1\n"

// maxVerifyCacheEntries bounds what is read (32 MiB of keys).
const maxVerifyCacheEntries = 1 << 20

// DefaultVerifyCachePath is where the cache lives unless told otherwise:
// the user's cache directory (XDG_CACHE_HOME, ~/.cache), or "" when there is none.
func DefaultVerifyCachePath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "shipshape", "certs-verified")
}

// OpenVerifyCache reads the cache at path. A missing file is an empty
// cache; an unreadable or malformed one is an empty cache and an error to
// report (the scan goes on, verifying everything).
func OpenVerifyCache(path string) (*VerifyCache, error) {
	c := &VerifyCache{path: path, known: map[[32]byte]bool{}, used: map[[32]byte]bool{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("verify cache: %w", err)
	}
	body, ok := bytes.CutPrefix(data, []byte(verifyCacheMagic))
	if !ok || len(body)%32 != 0 || len(body)/32 > maxVerifyCacheEntries {
		return c, fmt.Errorf("verify cache %s: not a cache file; it is ignored and rewritten", path)
	}
	for i := 0; i < len(body); i += 32 {
		c.known[[32]byte(body[i:i+32])] = true
	}
	return c, nil
}

// Verified reports whether parent signed child, from the cache when this
// exact check succeeded before.
func (c *VerifyCache) Verified(child, parent *x509.Certificate) bool {
	k := sigKey(child, parent)
	c.mu.Lock()
	if c.known[k] {
		c.used[k] = true
		c.hits++
		c.mu.Unlock()
		return true
	}
	c.misses++
	c.mu.Unlock()
	if child.CheckSignatureFrom(parent) != nil {
		return false
	}
	c.mu.Lock()
	c.known[k] = true
	c.used[k] = true
	c.mu.Unlock()
	return true
}

// Stats says how many checks the cache answered and how many it did not.
func (c *VerifyCache) Stats() (hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// Save writes the checks used in this run, atomically: a temporary file
// beside the cache, synced, then renamed over it, so a failed write
// leaves the previous cache whole.
func (c *VerifyCache) Save() error {
	c.mu.Lock()
	keys := make([][32]byte, 0, len(c.used))
	for k := range c.used {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i][:], keys[j][:]) < 0 })
	buf := make([]byte, 0, len(verifyCacheMagic)+32*len(keys))
	buf = append(buf, verifyCacheMagic...)
	for _, k := range keys {
		buf = append(buf, k[:]...)
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("verify cache: %w", err)
	}
	f, err := os.CreateTemp(dir, ".certs-verified-*")
	if err != nil {
		return fmt.Errorf("verify cache: %w", err)
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("verify cache: %w", err)
	}
	return nil
}
