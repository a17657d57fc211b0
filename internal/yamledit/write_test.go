package yamledit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(p, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "new\n" {
		t.Errorf("content = %q", got)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	assertOnlyFiles(t, dir, "a.yaml")

	// Through a symbolic link the target is replaced and the link stays.
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink("a.yaml", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("via link\n")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != "via link\n" {
		t.Errorf("target content = %q", got)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link replaced by a file: %v %v", fi.Mode(), err)
	}
}

func TestWriteFileFailureKeepsOriginal(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write into a read-only directory")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) }) // let TempDir remove it
	if err := WriteFile(p, []byte("new\n")); err == nil {
		t.Fatal("write into a read-only directory succeeded")
	}
	if got, _ := os.ReadFile(p); string(got) != "old\n" {
		t.Errorf("original changed to %q", got)
	}
	assertOnlyFiles(t, dir, "a.yaml")
}

func TestWriteFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFile(dir, []byte("x")); err == nil {
		t.Error("writing over a directory succeeded")
	}
	assertOnlyFiles(t, dir)
}

// TestWriteFileTempFails: a name so long that the temporary file's name
// is too long makes the write fail, also for root; the original stays.
func TestWriteFileTempFails(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, strings.Repeat("n", 250)+".yaml")
	if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
		t.Skipf("file system refuses long names: %v", err)
	}
	if err := WriteFile(p, []byte("new\n")); err == nil {
		t.Fatal("write with an impossible temporary name succeeded")
	}
	if got, _ := os.ReadFile(p); string(got) != "old\n" {
		t.Errorf("original changed to %q", got)
	}
	assertOnlyFiles(t, dir, filepath.Base(p))
}

func TestWriteFileNew(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "new.yaml")
	if err := WriteFile(p, []byte("x: 1\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode of a new file = %v", fi.Mode().Perm())
	}
}

func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		if e.Type()&os.ModeSymlink == 0 {
			got = append(got, e.Name())
		}
	}
	if len(got) != len(names) {
		t.Fatalf("files in dir = %v, want %v", got, names)
	}
	for i := range got {
		if got[i] != names[i] {
			t.Fatalf("files in dir = %v, want %v", got, names)
		}
	}
}
