package sandboxtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// Version information baked into the sandbox binary. These must equal the
// values in sandbox/Makefile (TestMakefileLDFlags checks it).
const (
	GitVersion   = "v1.37.2"
	GitMajor     = "1"
	GitMinor     = "37"
	GitCommit    = "91983998154325d26de64c75de621157a34e643c"
	GitTreeState = "clean"
	BuildDate    = "2026-11-12T00:00:00Z"
)

// MainModule is the module path of the repository root.
const MainModule = "github.com/shipshape-dev/shipshape"

// BinaryEnv names the environment variable that points at a prebuilt
// sandbox binary, bypassing the build.
const BinaryEnv = "SHIPSHAPE_SANDBOX_BIN"

// LDFlags returns the -ldflags value used to build the sandbox, identical
// to `make -C sandbox ldflags`.
func LDFlags() string {
	var parts []string
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		for _, kv := range [][2]string{
			{"gitVersion", GitVersion},
			{"gitMajor", GitMajor},
			{"gitMinor", GitMinor},
			{"gitCommit", GitCommit},
			{"gitTreeState", GitTreeState},
			{"buildDate", BuildDate},
		} {
			parts = append(parts, "-X "+pkg+"."+kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}

var binary struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of the sandbox binary, building it at most once
// per process. Builds are cached under the user cache directory keyed by
// the sandbox sources and the Go toolchain, and serialised across
// processes with a file lock. $SHIPSHAPE_SANDBOX_BIN overrides the build.
func Binary() (string, error) {
	binary.once.Do(func() {
		binary.path, binary.err = buildBinary()
	})
	return binary.path, binary.err
}

func buildBinary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("%s: %w", BinaryEnv, err)
		}
		return abs, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	src := filepath.Join(root, "sandbox")
	toolchain, err := goEnv(src)
	if err != nil {
		return "", err
	}
	key, err := cacheKey(src, toolchain+"\n"+LDFlags())
	if err != nil {
		return "", err
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "shipshape", "sandbox", key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "shipshape-sandbox")
	if isExecutable(bin) {
		return bin, nil
	}

	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", dir, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway
	if isExecutable(bin) {
		return bin, nil // built by another process while we waited
	}

	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	defer os.Remove(tmp)
	cmd := exec.Command("go", "build", "-buildvcs=false", "-ldflags", LDFlags(), "-o", tmp, "./cmd/shipshape-sandbox")
	cmd.Dir = src
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build sandbox: %w\n%s", err, out.String())
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// goEnv describes the toolchain and target, part of the cache key.
func goEnv(dir string) (string, error) {
	cmd := exec.Command("go", "env", "GOVERSION", "GOOS", "GOARCH", "CGO_ENABLED", "GOEXPERIMENT")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	return string(out), nil
}

// cacheKey hashes extra plus the sandbox module's go.mod, go.sum and every
// non-test .go file (path and content).
func cacheKey(src, extra string) (string, error) {
	var files []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != src && (strings.HasPrefix(name, ".") || name == "bin" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "go.mod" || rel == "go.sum" || (strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	h := sha256.New()
	io.WriteString(h, extra)
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "\x00%s\x00%d\x00", filepath.ToSlash(rel), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// RepoRoot walks up from the working directory to the directory whose
// go.mod declares MainModule.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if modulePath(filepath.Join(dir, "go.mod")) == MainModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("sandboxtest: repository root (go.mod of " + MainModule + ") not found above the working directory")
		}
		dir = parent
	}
}

func modulePath(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
