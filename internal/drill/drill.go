// Package drill runs a recovery test: it restores a backup (or any manifest
// tree) into a scratch cluster, a fresh shipshape sandbox it starts itself
// or one the caller names, compares every restored object with what the
// cluster then holds, and says what failed and how long the restore took.
//
// It never touches the cluster the backup came from and never prints.
package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/drift"
	"github.com/shipshape-dev/shipshape/internal/restore"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Report is the outcome of a drill.
type Report struct {
	// Restore is what the restore did.
	Restore *restore.Result
	// Drift compares the tree with the cluster after the restore. Only-live
	// objects are what the scratch cluster made itself and are not failures.
	Drift *drift.Report
	// RestoreDuration is how long the restore took.
	RestoreDuration time.Duration
}

// Failures counts what did not come back as it was: objects the restore
// could not apply and objects missing or different afterwards.
func (r *Report) Failures() int {
	n := 0
	for _, it := range r.Restore.Items {
		switch it.Action {
		case restore.Create, restore.Update, restore.Unchanged:
		default:
			n++
		}
	}
	if r.Drift != nil {
		n += len(r.Drift.OnlyTree) + len(r.Drift.Changed)
	}
	return n
}

// Passed reports whether every object came back as it was.
func (r *Report) Passed() bool { return r.Failures() == 0 }

// Options tune Run.
type Options struct {
	// Restore tunes the restore; DryRun is ignored.
	Restore restore.Options
}

// Run restores objects into target and compares. It returns an error only
// when the drill could not be carried out (the target unreachable, the
// context ended); everything that failed to restore is in the report.
func Run(ctx context.Context, target *cluster.Target, objects []snapshot.Object, o Options) (*Report, error) {
	applier, err := cluster.NewApplier(target)
	if err != nil {
		return nil, err
	}
	ro := o.Restore
	ro.DryRun = false
	if ro.DefaultNamespace == "" {
		ro.DefaultNamespace = target.Namespace
	}
	res, err := restore.Run(ctx, applier, objects, ro)
	if err != nil {
		return &Report{Restore: res}, fmt.Errorf("drill: %w", err)
	}
	rep := &Report{Restore: res, RestoreDuration: res.Duration}

	var gks []schema.GroupKind
	seen := map[schema.GroupKind]bool{}
	for _, obj := range objects {
		gk := obj.GroupVersionKind().GroupKind()
		if !seen[gk] {
			seen[gk] = true
			gks = append(gks, gk)
		}
	}
	all := *target
	all.AllNamespaces, all.Namespace = true, ""
	live, err := cluster.Snapshot(ctx, &all, cluster.SnapshotOptions{Kinds: gks})
	if err != nil {
		return rep, fmt.Errorf("drill: read the restored cluster: %w", err)
	}
	scope := map[schema.GroupKind]bool{}
	for _, r := range live.Resources {
		scope[schema.GroupKind{Group: r.Group, Kind: r.Kind}] = r.Namespaced
	}
	// Objects the restore could not apply are failures already; compare
	// the rest.
	skip := map[drift.Key]bool{}
	for _, it := range res.Items {
		switch it.Action {
		case restore.Create, restore.Update, restore.Unchanged:
		default:
			skip[it.Key] = true
		}
	}
	defaultNS := ro.DefaultNamespace
	if defaultNS == "" {
		defaultNS = "default"
	}
	var compare []snapshot.Object
	for _, obj := range objects {
		k := drift.KeyOf(obj.Unstructured)
		if k.Namespace == "" && scope[schema.GroupKind{Group: k.Group, Kind: k.Kind}] {
			k.Namespace = defaultNS
		}
		if !skip[k] {
			compare = append(compare, obj)
		}
	}
	rep.Drift = drift.Diff(compare, live.Objects, drift.Options{
		Namespaced: func(gk schema.GroupKind) (bool, bool) {
			n, ok := scope[gk]
			return n, ok
		},
		DefaultNamespace: defaultNS,
	})
	return rep, nil
}

// Sandbox is a scratch control plane started with `shipshape-sandbox up`.
type Sandbox struct {
	// Dir holds the sandbox; Kubeconfig is its admin kubeconfig.
	Dir, Kubeconfig string
	cmd             *exec.Cmd
	done            chan struct{}
	ownsDir         bool
}

type readyFile struct {
	Kubeconfig string `json:"kubeconfig"`
	PID        int    `json:"pid"`
}

// StartSandbox runs `bin up --dir DIR` (a new temporary directory when dir
// is empty; Stop then removes it) and waits until DIR/ready names the
// process, or until ctx ends. The sandbox's output goes to DIR/sandbox.log.
func StartSandbox(ctx context.Context, bin, dir string) (*Sandbox, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("sandbox binary %q: %w (install it or name it with --sandbox-bin)", bin, err)
	}
	s := &Sandbox{Dir: dir, done: make(chan struct{})}
	if s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "shipshape-drill-"); err != nil {
			return nil, err
		}
		s.ownsDir = true
	} else if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	_ = os.Remove(filepath.Join(s.Dir, "ready"))
	logf, err := os.OpenFile(filepath.Join(s.Dir, "sandbox.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.cleanup()
		return nil, err
	}
	s.cmd = exec.Command(path, "up", "--dir", s.Dir)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		s.cleanup()
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	var waitErr error
	go func() {
		waitErr = s.cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(filepath.Join(s.Dir, "ready")); err == nil {
			var r readyFile
			if json.Unmarshal(data, &r) == nil && r.PID == s.cmd.Process.Pid && r.Kubeconfig != "" {
				s.Kubeconfig = r.Kubeconfig
				return s, nil
			}
		}
		select {
		case <-s.done:
			s.cleanup()
			return nil, fmt.Errorf("sandbox exited before it was ready: %v (see %s)", waitErr, filepath.Join(s.Dir, "sandbox.log"))
		case <-ctx.Done():
			_ = s.Stop()
			return nil, fmt.Errorf("wait for the sandbox: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Stop ends the sandbox (SIGTERM, then SIGKILL to its process group after
// 30 seconds) and removes its directory if StartSandbox made it.
func (s *Sandbox) Stop() error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		pid := s.cmd.Process.Pid
		select {
		case <-s.done:
		default:
			_ = syscall.Kill(pid, syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(30 * time.Second):
				err = errors.New("sandbox ignored SIGTERM; killed")
			}
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-s.done
	}
	s.cleanup()
	return err
}

func (s *Sandbox) cleanup() {
	if s.ownsDir {
		_ = os.RemoveAll(s.Dir)
	}
}
