// Package cli implements the shipshape-sandbox command line.
package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"k8s.io/component-base/version"

	"github.com/shipshape-dev/shipshape/sandbox/internal/controllermanager"
	"github.com/shipshape-dev/shipshape/sandbox/internal/controlplane"
	"github.com/shipshape-dev/shipshape/sandbox/internal/pki"
)

// MainModule is the module path of the repository root, used to locate the
// default seed directory.
const MainModule = "github.com/shipshape-dev/shipshape"

// DefaultSeedDir is the demo estate, relative to the repository root.
const DefaultSeedDir = "examples/estate"

// DefaultChartsDir holds the demo's Helm charts, relative to the repository root.
const DefaultChartsDir = "examples/charts"

// Run executes the command line and returns its error.
func Run(args []string) error {
	root := &cobra.Command{
		Use:           "shipshape-sandbox",
		Short:         "Local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) with a kubeadm-style PKI",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(upCommand(), versionCommand(), controllermanager.Command())
	if args == nil {
		args = []string{}
	}
	root.SetArgs(args)
	return root.Execute()
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the Kubernetes version the sandbox reports",
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version.Get()
			fmt.Fprintf(cmd.OutOrStdout(), "%s (commit %s, built %s, %s)\n", v.GitVersion, v.GitCommit, v.BuildDate, v.GoVersion)
			return nil
		},
	}
}

type upFlags struct {
	dir           string
	seed          string
	seedDir       string
	chartsDir     string
	keyType       string
	certValidity  []string
	certNotBefore []string
	certSigner    []string
	regenerate    bool
	allowInvalid  bool
	apiserverArgs []string
	cmArgs        []string
	readyTimeout  time.Duration
}

func upCommand() *cobra.Command {
	f := &upFlags{}
	cmd := &cobra.Command{
		Use:   "up --dir DIR",
		Short: "Run the control plane in the foreground until SIGINT or SIGTERM",
		Long: `Run etcd, kube-apiserver and kube-controller-manager on loopback ports with a
kubeadm-style PKI under DIR/etc/kubernetes/pki. When ready, prints
"ready: kubeconfig=DIR/kubeconfig apiserver=URL" and writes DIR/ready.
Existing PKI in DIR is reused; only missing files are generated.

Certificate names for --cert-* flags are paths under pki without extension
(ca, apiserver, etcd/server, ...) or kubeconfig file names (admin.conf, ...).
Durations accept Go syntax plus d (days) and y (365 days): 48h, 30d, -400d.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.options(cmd)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				// After the first signal, restore the default behaviour so
				// that a second one terminates immediately.
				<-ctx.Done()
				stop()
			}()
			opts.Stdout, opts.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return controlplane.Run(ctx, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "", "sandbox directory (PKI, kubeconfigs, etcd data, logs); required")
	fl.StringVar(&f.seed, "seed", "none", "objects to create once ready: none or demo (the manifests in --seed-dir)")
	fl.StringVar(&f.seedDir, "seed-dir", "", "directory of manifests for --seed demo (default "+DefaultSeedDir+" in the repository)")
	fl.StringVar(&f.chartsDir, "seed-charts", "", "directory of Helm charts to install with --seed demo, each with an optional <chart>.release.yaml (default "+DefaultChartsDir+" in the repository)")
	fl.StringVar(&f.keyType, "key-type", "rsa", "key algorithm for generated keys: rsa (2048 bit, kubeadm default) or ecdsa (P-256)")
	fl.StringArrayVar(&f.certValidity, "cert-validity", nil, "NAME=DURATION validity of a generated certificate (repeatable; default CAs 10y, others 1y)")
	fl.StringArrayVar(&f.certNotBefore, "cert-not-before", nil, "NAME=OFFSET NotBefore relative to now, e.g. apiserver-kubelet-client=-400d (repeatable; default -5m); NotAfter = NotBefore + validity")
	fl.StringArrayVar(&f.certSigner, "cert-signer", nil, "NAME=CA issue a certificate from another CA (ca, front-proxy-ca, etcd/ca) to create a wrongly-issued one (repeatable)")
	fl.BoolVar(&f.regenerate, "regenerate-pki", false, "discard the existing PKI and kubeconfigs and create new ones")
	fl.BoolVar(&f.allowInvalid, "allow-invalid-certs", false, "start even if a certificate the control plane needs (ca, etcd/ca, apiserver, etcd/server, apiserver-etcd-client, admin.conf, super-admin.conf, controller-manager.conf) is expired or not yet valid")
	fl.StringArrayVar(&f.apiserverArgs, "apiserver-arg", nil, "extra kube-apiserver flag, e.g. --apiserver-arg=--v=2 (repeatable)")
	fl.StringArrayVar(&f.cmArgs, "controller-manager-arg", nil, "extra kube-controller-manager flag (repeatable)")
	fl.DurationVar(&f.readyTimeout, "ready-timeout", 3*time.Minute, "give up if the control plane is not ready in time")
	return cmd
}

func (f *upFlags) options(cmd *cobra.Command) (controlplane.Options, error) {
	var o controlplane.Options
	if f.dir == "" {
		return o, errors.New("--dir is required")
	}
	kt, err := pki.ParseKeyType(f.keyType)
	if err != nil {
		return o, err
	}
	validity, err := durationPairs("--cert-validity", f.certValidity)
	if err != nil {
		return o, err
	}
	for name, d := range validity {
		if d <= 0 {
			return o, fmt.Errorf("--cert-validity %s: must be positive", name)
		}
	}
	notBefore, err := durationPairs("--cert-not-before", f.certNotBefore)
	if err != nil {
		return o, err
	}
	signer, err := pairs("--cert-signer", f.certSigner)
	if err != nil {
		return o, err
	}
	seedDir, chartsDir := "", ""
	switch f.seed {
	case "none":
		if cmd.Flags().Changed("seed-dir") && !cmd.Flags().Changed("seed") {
			seedDir = f.seedDir
		}
	case "demo":
		seedDir = f.seedDir
		chartsDir = f.chartsDir
		if chartsDir == "" && seedDir == "" {
			if root, err := repoRoot(); err == nil {
				chartsDir = filepath.Join(root, DefaultChartsDir)
			}
		}
		if seedDir == "" {
			root, err := repoRoot()
			if err != nil {
				return o, fmt.Errorf("--seed demo: %w; pass --seed-dir", err)
			}
			seedDir = filepath.Join(root, DefaultSeedDir)
		}
	default:
		return o, fmt.Errorf("--seed: want none or demo, got %q", f.seed)
	}
	if chartsDir != "" {
		if chartsDir, err = filepath.Abs(chartsDir); err != nil {
			return o, err
		}
		if fi, err := os.Stat(chartsDir); err != nil || !fi.IsDir() {
			return o, fmt.Errorf("charts directory %s does not exist", chartsDir)
		}
	}
	if seedDir != "" {
		if seedDir, err = filepath.Abs(seedDir); err != nil {
			return o, err
		}
		if fi, err := os.Stat(seedDir); err != nil || !fi.IsDir() {
			return o, fmt.Errorf("seed directory %s does not exist", seedDir)
		}
	}
	return controlplane.Options{
		Dir:                   f.dir,
		SeedDir:               seedDir,
		ChartsDir:             chartsDir,
		KeyType:               kt,
		CertValidity:          validity,
		CertNotBefore:         notBefore,
		CertSigner:            signer,
		RegeneratePKI:         f.regenerate,
		AllowInvalidCerts:     f.allowInvalid,
		APIServerArgs:         f.apiserverArgs,
		ControllerManagerArgs: f.cmArgs,
		ReadyTimeout:          f.readyTimeout,
	}, nil
}

// pairs parses NAME=VALUE items; each item may hold several comma-separated
// pairs.
func pairs(flag string, items []string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range items {
		for _, kv := range strings.Split(item, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || k == "" || v == "" {
				return nil, fmt.Errorf("%s: want NAME=VALUE, got %q", flag, kv)
			}
			out[k] = v
		}
	}
	return out, nil
}

func durationPairs(flag string, items []string) (map[string]time.Duration, error) {
	raw, err := pairs(flag, items)
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Duration, len(raw))
	for k, v := range raw {
		d, err := pki.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", flag, k, err)
		}
		out[k] = d
	}
	return out, nil
}

// repoRoot walks up from the working directory to the directory whose
// go.mod declares MainModule.
func repoRoot() (string, error) {
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
			return "", errors.New("repository root not found above the working directory")
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
