// Package apiserver runs the real kube-apiserver in-process from its
// options API, so that the caller controls its lifetime with a context and
// its log output.
package apiserver

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/spf13/pflag"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/server/flagz"
	"k8s.io/client-go/rest"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/featuregate"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

// Server is a configured, not yet running kube-apiserver.
type Server struct {
	opts *options.ServerRunOptions
}

// New parses kube-apiserver command-line args, serves on listener and
// applies the process-wide logging configuration with all klog output sent
// to logOut. It must be called at most once per process.
func New(args []string, listener net.Listener, logOut io.Writer) (*Server, error) {
	s := options.NewServerRunOptions()
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	fs.SetOutput(logOut)
	named := s.Flags()
	for _, f := range named.FlagSets {
		fs.AddFlagSet(f)
	}
	s.Flagz = flagz.NamedFlagSetsReader{FlagSets: named}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("kube-apiserver flags: %w", err)
	}
	if listener != nil {
		s.SecureServing.Listener = listener
		s.SecureServing.BindPort = listener.Addr().(*net.TCPAddr).Port
	}
	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return nil, err
	}
	// The apiserver's own loopback clients must not log self-issued warnings.
	rest.SetDefaultWarningHandler(rest.NoWarnings{})

	featureGate := s.GenericServerRunOptions.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if err := logsapi.ValidateAndApplyWithOptions(s.Logs, &logsapi.LoggingOptions{ErrorStream: logOut, InfoStream: logOut}, featureGate); err != nil {
		return nil, err
	}
	return &Server{opts: s}, nil
}

// Run completes and validates the options and serves until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	completed, err := s.opts.Complete(ctx)
	if err != nil {
		return err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return utilerrors.NewAggregate(errs)
	}
	featureGate := s.opts.GenericServerRunOptions.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if mg, ok := featureGate.(featuregate.MutableFeatureGate); ok {
		mg.AddMetrics()
	}
	s.opts.GenericServerRunOptions.ComponentGlobalsRegistry.AddMetrics()
	return app.Run(ctx, completed)
}
