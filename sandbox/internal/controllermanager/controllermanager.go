// Package controllermanager runs the real kube-controller-manager as a child
// process of the sandbox binary. It cannot share the API server's process
// because both components apply the process-wide logging configuration.
package controllermanager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

// SubcommandName is the hidden subcommand of the sandbox binary that runs
// the controller manager.
const SubcommandName = "controller-manager"

// parentPIDEnv carries the pid of the sandbox so that an orphaned child can
// notice that its parent died before the death signal was armed.
const parentPIDEnv = "SHIPSHAPE_SANDBOX_PARENT_PID"

// Command returns the hidden subcommand that execs into the upstream
// kube-controller-manager command with the remaining arguments.
func Command() *cobra.Command {
	return &cobra.Command{
		Use:                SubcommandName + " [kube-controller-manager flags]",
		Short:              "Run kube-controller-manager (used internally by 'up')",
		Hidden:             true,
		DisableFlagParsing: true,
		SilenceUsage:       true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if want := os.Getenv(parentPIDEnv); want != "" && want != strconv.Itoa(os.Getppid()) {
				return errors.New("parent process is gone")
			}
			kcm := app.NewControllerManagerCommand()
			if args == nil {
				args = []string{}
			}
			kcm.SetArgs(args)
			return kcm.ExecuteContext(cmd.Context())
		},
	}
}

// Process is a running controller-manager child.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start launches the current executable's hidden subcommand with args,
// appending its stdout and stderr to logFile. The child receives SIGKILL if
// the thread that started it (and thus the sandbox) dies.
func Start(args []string, logFile string) (*Process, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, append([]string{SubcommandName}, args...)...)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = append(os.Environ(), parentPIDEnv+"="+strconv.Itoa(os.Getpid()))
	cmd.SysProcAttr = sysProcAttr()

	p := &Process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	// The parent-death signal fires when the creating OS thread exits, so
	// keep this goroutine locked to its thread for the child's lifetime.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer out.Close()
		if err := cmd.Start(); err != nil {
			started <- err
			close(p.done)
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start controller-manager: %w", err)
	}
	return p, nil
}

// Done is closed when the child exits.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the exit error once Done is closed.
func (p *Process) Err() error {
	select {
	case <-p.done:
		if p.err == nil {
			return errors.New("controller-manager exited")
		}
		return fmt.Errorf("controller-manager exited: %w", p.err)
	default:
		return nil
	}
}

// Stop terminates the child: SIGTERM, then SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Wait blocks until the child exits or ctx is done.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}
