package backup

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
)

// TestSecondBackupLinksUnchangedFiles: a second backup into the same
// directory after one object changed writes the new object, takes every
// unchanged file (the Secret's ciphertext included) from the previous
// backup by hard link, and verifies; a third, unchanged, touches nothing.
func TestSecondBackupLinksUnchangedFiles(t *testing.T) {
	ctx := context.Background()
	id, r := testKey(t)
	parent := t.TempDir()
	out := filepath.Join(parent, "b")
	wo := WriteOptions{Out: out, Recipients: []Recipient{r}, Identities: []age.Identity{id}}
	if _, err := Write(ctx, testSnapshot(t), wo); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(out, "namespaces", "shop", "core", "ConfigMap", "cfg.yaml")
	data := filepath.Join(out, "namespaces", "shop", "core", "Secret", "db.data.age")
	stat := func(p string) (os.FileInfo, []byte) {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi, b
	}
	cfgBefore, cfgBytes := stat(cfg)
	dataBefore, dataBytes := stat(data)

	changed := testSnapshot(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: shop, uid: c9}\ndata: {k: v}")
	res, err := Write(ctx, changed, wo)
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged || res.Reencrypted != 0 {
		t.Errorf("unchanged %v, re-encrypted %d; want a changed backup that re-encrypts nothing", res.Unchanged, res.Reencrypted)
	}
	for _, c := range []struct {
		path   string
		before os.FileInfo
		bytes  []byte
	}{{cfg, cfgBefore, cfgBytes}, {data, dataBefore, dataBytes}} {
		fi, b := stat(c.path)
		if !bytes.Equal(b, c.bytes) {
			t.Errorf("%s: content changed", c.path)
		}
		if !os.SameFile(fi, c.before) {
			t.Errorf("%s: written again, want a hard link to the previous backup's file", c.path)
		}
		if fi.Mode().Perm() != c.before.Mode().Perm() {
			t.Errorf("%s: mode %v, want %v", c.path, fi.Mode().Perm(), c.before.Mode().Perm())
		}
	}
	if _, b := stat(filepath.Join(out, "namespaces", "shop", "core", "ConfigMap", "extra.yaml")); !bytes.Contains(b, []byte("name: extra")) {
		t.Errorf("extra.yaml:\n%s", b)
	}
	rep, err := Verify(ctx, out, Options{Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Errorf("problems after the second backup: %v", rep.Problems)
	}
	if got := res.Manifest.Counts["core/ConfigMap"]; got != 2 {
		t.Errorf("core/ConfigMap count %d, want 2", got)
	}

	before := snapshotFiles(t, out)
	res, err = Write(ctx, changed, wo)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Unchanged {
		t.Error("third backup of the same objects: not reported unchanged")
	}
	if diff := cmp.Diff(before, snapshotFiles(t, out)); diff != "" {
		t.Errorf("unchanged backup changed files:\n%s", diff)
	}
	if left, _ := filepath.Glob(filepath.Join(parent, ".b.partial-*")); len(left) > 0 {
		t.Errorf("left beside the target: %v", left)
	}
}

// TestFailedBackupLeavesNoTree: a backup that fails midway for another
// reason than a failed write (an object that cannot be encoded) leaves the
// previous backup as it was and no temporary tree.
func TestFailedBackupLeavesNoTree(t *testing.T) {
	ctx := context.Background()
	_, r := testKey(t)
	parent := t.TempDir()
	out := filepath.Join(parent, "b")
	if _, err := Write(ctx, testSnapshot(t), WriteOptions{Out: out, Recipients: []Recipient{r}}); err != nil {
		t.Fatal(err)
	}
	before := snapshotFiles(t, out)
	bad := testSnapshot(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: zz-bad, namespace: shop, uid: c9}")
	for _, o := range bad.Objects {
		if o.GetName() == "zz-bad" {
			o.Object["data"] = map[string]any{"k": math.NaN()}
		}
	}
	if _, err := Write(ctx, bad, WriteOptions{Out: out, Recipients: []Recipient{r}}); err == nil {
		t.Fatal("backup of an object that cannot be encoded: no error")
	}
	if diff := cmp.Diff(before, snapshotFiles(t, out)); diff != "" {
		t.Errorf("previous backup changed:\n%s", diff)
	}
	if left, _ := filepath.Glob(filepath.Join(parent, ".b.partial-*")); len(left) > 0 {
		t.Errorf("left beside the target: %v", left)
	}
}

// TestScanHMAC: the line scan finds the same HMAC as the YAML parser in a
// file the writer made, and gives up on anything else.
func TestScanHMAC(t *testing.T) {
	_, r := testKey(t)
	out := filepath.Join(t.TempDir(), "b")
	if _, err := Write(context.Background(), testSnapshot(t), WriteOptions{Out: out, Recipients: []Recipient{r}}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "namespaces", "shop", "core", "Secret", "db.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := decodeObject(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := o.GetAnnotations()[AnnotationDataHMAC]
	if got, ok := scanHMAC(raw); !ok || got != want || len(want) != 64 {
		t.Errorf("scanHMAC = %q, %v; want %q from the YAML", got, ok, want)
	}
	for _, h := range []string{strings.Repeat("ab", 32), strings.Repeat("12", 32)} {
		y := "metadata:\n  annotations:\n    " + AnnotationDataHMAC + ": "
		if h[0] <= '9' {
			y += `"` + h + `"` + "\n"
		} else {
			y += h + "\n"
		}
		if got, ok := scanHMAC([]byte(y)); !ok || got != h {
			t.Errorf("scanHMAC(%q) = %q, %v; want %q", y, got, ok, h)
		}
	}
	h := strings.Repeat("ab", 32)
	for _, bad := range []string{
		"metadata: {annotations: {" + AnnotationDataHMAC + ": " + h + "}}\n",
		"metadata:\n  annotations:\n    " + AnnotationDataHMAC + ": " + h + "\n    x: |\n      " + AnnotationDataHMAC + ": " + h + "\n",
		"metadata:\n  annotations:\n    " + AnnotationDataHMAC + ": " + h[:10] + "\n",
		"metadata:\n  annotations:\n    " + AnnotationDataHMAC + ": " + strings.ToUpper(h) + "\n",
	} {
		if got, ok := scanHMAC([]byte(bad)); ok {
			t.Errorf("scanHMAC(%q) = %q, want it to leave the file to the YAML parser", bad, got)
		}
	}
}
