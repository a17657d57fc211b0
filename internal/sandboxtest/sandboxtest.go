// Package sandboxtest runs the shipshape sandbox (a local etcd,
// kube-apiserver and kube-controller-manager with a kubeadm-style PKI) for
// integration tests.
//
// A package opts in from TestMain, which runs the tests through Main and
// exits with the code Main returns, and asks for the shared sandbox in
// tests; the sandbox is built and started only when a test first calls Get:
//
//	func TestSomething(t *testing.T) {
//		env := sandboxtest.Get(t)
//		cs := env.Clientset(t)
//		...
//	}
//
// Tests that need special certificates start their own with Start.
package sandboxtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultStartTimeout bounds Start when ctx has no deadline.
const DefaultStartTimeout = 3 * time.Minute

// tempPrefix names the temporary sandbox directories Start creates.
const tempPrefix = "shipshape-sandbox-"

// sweepStaleDirs removes temporary sandbox directories left behind by test
// processes that were killed: older than ten minutes and not locked by a
// running sandbox (which holds DIR/.lock).
func sweepStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < 10*time.Minute {
			continue
		}
		f, err := os.OpenFile(filepath.Join(d, ".lock"), os.O_RDWR, 0)
		if err == nil {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			f.Close()
			if err != nil {
				continue // a sandbox is running there
			}
		}
		_ = os.RemoveAll(d)
	}
}

// Options configures a sandbox started with Start.
type Options struct {
	// Dir is the sandbox directory. Empty means a fresh temporary
	// directory that Stop removes; a given Dir is kept.
	Dir string
	// Seed is "none" (default) or "demo".
	Seed string
	// SeedDir is the manifest directory for Seed "demo"; empty means
	// examples/estate in the repository.
	SeedDir string
	// CertValidity maps certificate names (paths under pki without
	// extension, e.g. "apiserver", "etcd/server", or kubeconfig names like
	// "admin.conf") to durations such as "48h", "30d".
	CertValidity map[string]string
	// CertNotBefore maps certificate names to NotBefore offsets from now,
	// e.g. "-400d" to create an already expired certificate.
	CertNotBefore map[string]string
	// CertSigner maps certificate names to the CA that should issue them
	// instead of the usual one ("ca", "front-proxy-ca", "etcd/ca"), to
	// create wrongly-issued certificates.
	CertSigner map[string]string
	// ExtraArgs are appended to `shipshape-sandbox up`.
	ExtraArgs []string
}

// Env is a running sandbox.
type Env struct {
	dir        string
	ownsDir    bool
	kubeconfig string
	apiserver  string
	cfg        *rest.Config
	cmd        *exec.Cmd
	done       chan struct{}
	waitErr    error
	stopOnce   sync.Once
	stopErr    error
}

type readyFile struct {
	Kubeconfig string `json:"kubeconfig"`
	APIServer  string `json:"apiserver"`
	PID        int    `json:"pid"`
}

// Start builds (or reuses) the sandbox binary, starts a sandbox and waits
// until it is ready. The caller must call Stop.
func Start(ctx context.Context, o Options) (*Env, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStartTimeout)
		defer cancel()
	}
	e := &Env{dir: o.Dir, done: make(chan struct{})}
	if e.dir == "" {
		sweepStaleDirs()
		if e.dir, err = os.MkdirTemp("", tempPrefix); err != nil {
			return nil, err
		}
		e.ownsDir = true
	} else if e.dir, err = filepath.Abs(e.dir); err != nil {
		return nil, err
	} else if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return nil, err
	}
	args, err := o.args(e.dir)
	if err != nil {
		e.cleanup()
		return nil, err
	}
	if err := e.start(bin, args); err != nil {
		e.cleanup()
		return nil, err
	}
	if err := e.waitReady(ctx); err != nil {
		msg := fmt.Sprintf("sandboxtest: sandbox in %s did not become ready: %v\n%s", e.dir, err, e.LogTail(40))
		_ = e.Stop()
		return nil, errors.New(msg)
	}
	return e, nil
}

func (o Options) args(dir string) ([]string, error) {
	args := []string{"up", "--dir", dir}
	switch o.Seed {
	case "", "none":
	case "demo":
		seedDir := o.SeedDir
		if seedDir == "" {
			root, err := RepoRoot()
			if err != nil {
				return nil, err
			}
			seedDir = filepath.Join(root, "examples", "estate")
		}
		seedDir, err := filepath.Abs(seedDir)
		if err != nil {
			return nil, err
		}
		args = append(args, "--seed", "demo", "--seed-dir", seedDir)
	default:
		return nil, fmt.Errorf("sandboxtest: unknown Seed %q", o.Seed)
	}
	for _, m := range []struct {
		flag string
		vals map[string]string
	}{{"--cert-validity", o.CertValidity}, {"--cert-not-before", o.CertNotBefore}, {"--cert-signer", o.CertSigner}} {
		names := make([]string, 0, len(m.vals))
		for k := range m.vals {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			args = append(args, m.flag+"="+k+"="+m.vals[k])
		}
	}
	return append(args, o.ExtraArgs...), nil
}

func (e *Env) outputFile() string { return filepath.Join(e.dir, "sandbox.log") }

// start launches the sandbox in its own process group. The process gets
// SIGTERM if the test binary dies; the goroutine stays locked to the OS
// thread that created it because the parent-death signal is tied to that
// thread.
func (e *Env) start(bin string, args []string) error {
	_ = os.Remove(filepath.Join(e.dir, "ready"))
	out, err := os.OpenFile(e.outputFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	e.cmd = exec.Command(bin, args...)
	e.cmd.Stdout, e.cmd.Stderr = out, out
	e.cmd.SysProcAttr = sysProcAttr()
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer out.Close()
		if err := e.cmd.Start(); err != nil {
			started <- err
			close(e.done)
			return
		}
		started <- nil
		e.waitErr = e.cmd.Wait()
		close(e.done)
	}()
	return <-started
}

func (e *Env) waitReady(ctx context.Context) error {
	path := filepath.Join(e.dir, "ready")
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(path); err == nil {
			var r readyFile
			if err := json.Unmarshal(data, &r); err == nil && r.PID == e.cmd.Process.Pid {
				e.kubeconfig, e.apiserver = r.Kubeconfig, r.APIServer
				cfg, err := clientcmd.BuildConfigFromFlags("", r.Kubeconfig)
				if err != nil {
					return err
				}
				cfg.QPS, cfg.Burst = 50, 100
				e.cfg = cfg
				return nil
			}
		}
		select {
		case <-e.done:
			return fmt.Errorf("sandbox exited: %v", e.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Stop terminates the sandbox (SIGTERM, then SIGKILL to its process group
// after 30s), and removes the directory if Start created it. It is safe to
// call more than once.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		if e.cmd != nil && e.cmd.Process != nil {
			pid := e.cmd.Process.Pid
			select {
			case <-e.done:
			default:
				_ = syscall.Kill(pid, syscall.SIGTERM)
				select {
				case <-e.done:
				case <-time.After(30 * time.Second):
					e.stopErr = errors.New("sandboxtest: sandbox ignored SIGTERM; killed")
				}
			}
			// Whatever is left in the group (normally nothing) goes now.
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-e.done
		}
		e.cleanup()
	})
	return e.stopErr
}

func (e *Env) cleanup() {
	if e.ownsDir {
		_ = os.RemoveAll(e.dir)
	}
}

// Dir is the sandbox directory; the PKI is at Dir()/etc/kubernetes/pki.
func (e *Env) Dir() string { return e.dir }

// PKIDir is Dir()/etc/kubernetes/pki.
func (e *Env) PKIDir() string { return filepath.Join(e.dir, "etc", "kubernetes", "pki") }

// Kubeconfig is the path of the admin kubeconfig (Dir()/kubeconfig).
func (e *Env) Kubeconfig() string { return e.kubeconfig }

// APIServerURL is the https URL of the kube-apiserver.
func (e *Env) APIServerURL() string { return e.apiserver }

// Config returns a copy of the admin client configuration.
func (e *Env) Config() *rest.Config { return rest.CopyConfig(e.cfg) }

// ConfigAs returns the admin configuration impersonating user and groups,
// for exercising RBAC.
func (e *Env) ConfigAs(user string, groups ...string) *rest.Config {
	cfg := e.Config()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	return cfg
}

// Clientset returns an admin clientset.
func (e *Env) Clientset(t testing.TB) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(e.Config())
	if err != nil {
		t.Fatalf("sandboxtest: clientset: %v", err)
	}
	return cs
}

// LogTail returns the last n lines of the sandbox output and of each
// component log, for failure messages.
func (e *Env) LogTail(n int) string {
	var b strings.Builder
	files := []string{e.outputFile()}
	for _, c := range []string{"kube-apiserver", "controller-manager", "etcd"} {
		files = append(files, filepath.Join(e.dir, "logs", c+".log"))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- %s (last %d lines)\n%s\n", filepath.Base(f), len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}
