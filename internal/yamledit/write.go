package yamledit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFile replaces the file at path with data atomically: it writes a
// temporary file in the same directory, syncs it, gives it the original's
// mode (and owner, where permitted) and renames it over the original. When
// any step fails the original is left as it was and the temporary file is
// removed. A missing original is created with mode 0644.
func WriteFile(path string, data []byte) (err error) {
	// Write through a symbolic link to the file it names.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	mode := os.FileMode(0o644)
	var owner *syscall.Stat_t
	fi, statErr := os.Stat(path)
	switch {
	case statErr == nil:
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("write %s: not a regular file", path)
		}
		mode = fi.Mode().Perm()
		owner, _ = fi.Sys().(*syscall.Stat_t)
	case !errors.Is(statErr, os.ErrNotExist):
		return fmt.Errorf("write %s: %w", path, statErr)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if owner != nil {
		// Keeping the owner needs privileges; without them the file
		// belongs to the writer, as with any editor.
		_ = tmp.Chown(int(owner.Uid), int(owner.Gid))
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Make the rename durable; a failure here leaves the new file in place.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
