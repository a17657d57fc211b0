// Command shipshape reads a Kubernetes cluster or manifest files, judges them
// and reports findings. See the README and `shipshape --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/shipshape-dev/shipshape/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.SystemStreams())
	stop()
	os.Exit(code)
}
