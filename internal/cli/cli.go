// Package cli is shipshape's command tree. Each verb has an Options struct, a
// NewCmdX constructor that binds flags into it, and a plain xRun function that
// does the work by calling capability packages; there is no business logic
// here, no package-level state, and the only exit point is Main's return value.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Streams are the standard streams a command uses. Tests pass buffers.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// OutTTY and ErrTTY say whether stdout and stderr are terminals.
	OutTTY, ErrTTY bool
	// Width is the terminal width of stdout, or 0 when it is not a terminal.
	Width int
}

// SystemStreams returns the process's standard streams.
func SystemStreams() Streams {
	s := Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	if fd := int(os.Stdout.Fd()); term.IsTerminal(fd) {
		s.OutTTY = true
		if w, _, err := term.GetSize(fd); err == nil {
			s.Width = w
		}
	}
	s.ErrTTY = term.IsTerminal(int(os.Stderr.Fd()))
	return s
}

// Main runs shipshape with the given arguments and returns the exit code.
func Main(ctx context.Context, args []string, streams Streams) int {
	root := NewRootCmd(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		var te *thresholdError
		if !errors.As(err, &te) {
			fmt.Fprintln(streams.Err, "error:", err)
		}
		if ExitCode(err) == ExitUsage {
			fmt.Fprintf(streams.Err, "Run '%s --help' for usage.\n", commandPath(root, args))
		}
	}
	return ExitCode(err)
}

// commandPath names the command the arguments selected, for the usage hint.
func commandPath(root *cobra.Command, args []string) string {
	if cmd, _, err := root.Find(args); err == nil && cmd != nil {
		return cmd.CommandPath()
	}
	return root.Name()
}
