package cluster

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Client-side rate limits. client-go's defaults (5 QPS, burst 10) throttle a
// snapshot of a cluster with a few hundred resources noticeably; these are
// the values kubectl uses for discovery-heavy commands and stay well inside
// what API Priority and Fairness grants a single client.
const (
	defaultQPS   = 50
	defaultBurst = 100
)

// ConfigFlags are the connection settings the CLI binds its flags into, with
// kubectl's meaning.
type ConfigFlags struct {
	// Kubeconfig is an explicit kubeconfig file. When empty, the KUBECONFIG
	// environment variable, then ~/.kube/config, then the in-cluster service
	// account are used.
	Kubeconfig string
	// Context is the kubeconfig context to use instead of the current one.
	Context string
	// Namespace overrides the context's namespace.
	Namespace string
	// AllNamespaces reads namespaced resources in every namespace.
	AllNamespaces bool
}

// Target is a resolved connection: where to connect, as whom, and which
// namespace to read.
type Target struct {
	// Config is ready for client-go; QPS, Burst and UserAgent are set.
	Config *rest.Config
	// Namespace is the namespace namespaced resources are read in: the
	// --namespace flag, else the context's namespace, else "default" (or the
	// pod's namespace in-cluster). It is empty when AllNamespaces is set;
	// Snapshot reads an empty Namespace without AllNamespaces as "default".
	Namespace string
	// AllNamespaces reads namespaced resources in every namespace.
	AllNamespaces bool
	// Context is the kubeconfig context used; empty for in-cluster config.
	Context string
	// Host is the API server URL.
	Host string
}

// Load resolves the flags with clientcmd's loading rules: --kubeconfig, else
// KUBECONFIG, else ~/.kube/config, else in-cluster config. It reads files but
// does not contact the server.
func (f ConfigFlags) Load() (*Target, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: f.Context}
	overrides.Context.Namespace = f.Namespace
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)

	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, loadError(f, err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, loadError(f, err)
	}
	if ns == "" {
		ns = "default"
	}

	contextName := f.Context
	if contextName == "" {
		// RawConfig is empty for in-cluster config; the context stays empty.
		if raw, err := cc.RawConfig(); err == nil {
			contextName = raw.CurrentContext
		}
	}

	t := &Target{
		Config:        configure(cfg),
		Namespace:     ns,
		AllNamespaces: f.AllNamespaces,
		Context:       contextName,
		Host:          cfg.Host,
	}
	if f.AllNamespaces {
		t.Namespace = ""
	}
	return t, nil
}

// configure returns a copy of cfg with shipshape's rate limits and user
// agent where cfg sets none.
func configure(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	if c.QPS == 0 {
		c.QPS = defaultQPS
	}
	if c.Burst == 0 {
		c.Burst = defaultBurst
	}
	if c.UserAgent == "" {
		c.UserAgent = userAgent()
	}
	// The API server's deprecation warnings ("v1 Endpoints is deprecated")
	// would otherwise be logged to stderr in the middle of a report; what
	// shipshape says about deprecated APIs it says as findings.
	if c.WarningHandler == nil && c.WarningHandlerWithContext == nil {
		c.WarningHandler = rest.NoWarnings{}
	}
	return c
}

// userAgent is "shipshape/<module version>", "(devel)" for builds outside
// of a released module. The CLI may overwrite Target.Config.UserAgent.
func userAgent() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return "shipshape/" + v
}

func loadError(f ConfigFlags, err error) error {
	switch {
	case clientcmd.IsEmptyConfig(err):
		if f.Kubeconfig != "" {
			return fmt.Errorf("kubeconfig %q has no usable cluster", f.Kubeconfig)
		}
		return errors.New("no kubeconfig found: set --kubeconfig or KUBECONFIG")
	case f.Kubeconfig != "":
		return fmt.Errorf("load kubeconfig %q: %w", f.Kubeconfig, err)
	default:
		return fmt.Errorf("load kubeconfig: %w", err)
	}
}

// Contexts lists the context names of the kubeconfig the flags select,
// sorted, for shell completion. It reads files only.
func (f ConfigFlags) Contexts() ([]string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.Kubeconfig
	raw, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig: %w", err)
	}
	names := make([]string, 0, len(raw.Contexts))
	for name := range raw.Contexts {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}
