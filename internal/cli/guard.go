package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/shipshape-dev/shipshape/internal/audit/exempt"
	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/guard"
)

// GuardOptions are the inputs of `shipshape guard`.
type GuardOptions struct {
	*Globals
	// Listen is the HTTPS address, e.g. ":8443".
	Listen string
	// ConfigFile is --config: modes per namespace and label selector.
	ConfigFile string
	// Exemptions is --exemptions: an exemptions file as for audit.
	Exemptions string
	// Hosts are the serving certificate's DNS names and IPs.
	Hosts []string
	// CASecret is --ca-secret NAMESPACE/NAME: where the CA is kept, shared
	// by all replicas. Empty keeps a CA in memory only.
	CASecret string
	// CABundleFile is --ca-bundle-file: write the CA certificate there.
	CABundleFile string
	// WebhookConfig is --webhook-config: the ValidatingWebhookConfiguration
	// whose caBundle the guard keeps equal to its CA.
	WebhookConfig string
	// CertValidity and CAValidity are the lifetimes of new certificates.
	CertValidity, CAValidity time.Duration
	// RenewCheck is how often the serving certificate's expiry is checked.
	RenewCheck time.Duration
	// WatchRelated is --watch-related: watch the objects checks need beside
	// the reviewed one (PodDisruptionBudgets, LimitRanges, ServiceAccounts,
	// Roles, ClusterRoles) so that it is judged in context.
	WatchRelated bool
	// Ready, when set, is called with the listener's address once serving (tests).
	Ready func(addr string, ca []byte)
}

// NewCmdGuard builds `shipshape guard`. runF replaces guardRun in tests of flag parsing.
func NewCmdGuard(g *Globals, runF func(context.Context, *GuardOptions) error) *cobra.Command {
	opts := &GuardOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "guard --host NAME [--config FILE] [--ca-secret NS/NAME --webhook-config NAME]",
		Short: "Run the validating admission webhook that warns about or denies objects with findings",
		Long: `Guard serves a validating admission webhook over HTTPS (POST /validate) that runs every check
of 'shipshape scan' on each object created or updated, with the same exemptions as 'shipshape audit'
(--exemptions, and the shipshape.dev/exempt annotations unless the file switches them off).

The config file (--config) chooses per namespace pattern and object label selector whether
findings become admission warnings (warn: the request is allowed) or a denial (deny); the first
matching rule wins, and the default is warn for findings of medium severity and above.

The guard keeps its own CA (in the Secret --ca-secret, shared by all replicas, created on first
start), issues itself a serving certificate for --host, renews it when a third of its validity is
left without a restart, and keeps the caBundle of --webhook-config equal to its CA. It serves
/healthz, /readyz and Prometheus /metrics (including each certificate's expiry) on the same port.
See docs/guard.md and deploy/guard/.`,
		Example: `  # In the cluster (deploy/guard/)
  shipshape guard --host shipshape-guard.shipshape-guard.svc --config /etc/shipshape/guard.yaml \
    --ca-secret shipshape-guard/shipshape-guard-ca --webhook-config shipshape-guard

  # Locally, for a test cluster that reaches this machine
  shipshape guard --listen 127.0.0.1:8443 --host 127.0.0.1 --ca-bundle-file ca.crt`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return guardRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Listen, "listen", ":8443", "the HTTPS address to serve on")
	f.StringVar(&opts.ConfigFile, "config", "", "a YAML file choosing warn or deny per namespace and label selector (default: warn)")
	f.StringVar(&opts.Exemptions, "exemptions", "", "a YAML file of exemptions, as for shipshape audit")
	f.StringSliceVar(&opts.Hosts, "host", nil, "a DNS name or IP of the serving certificate; repeatable (the Service's name.namespace.svc)")
	f.StringVar(&opts.CASecret, "ca-secret", "", "NAMESPACE/NAME of the Secret holding the guard's CA, created when missing")
	f.StringVar(&opts.CABundleFile, "ca-bundle-file", "", "write the CA certificate (the webhook's caBundle) to this file")
	f.StringVar(&opts.WebhookConfig, "webhook-config", "", "the ValidatingWebhookConfiguration whose caBundle the guard sets to its CA")
	f.DurationVar(&opts.CertValidity, "cert-validity", 30*24*time.Hour, "validity of each serving certificate; renewed when a third is left")
	f.DurationVar(&opts.CAValidity, "ca-validity", 10*365*24*time.Hour, "validity of a newly created CA")
	f.DurationVar(&opts.RenewCheck, "renew-check", time.Minute, "how often to check whether the serving certificate is due for renewal")
	f.BoolVar(&opts.WatchRelated, "watch-related", false, "watch PodDisruptionBudgets, LimitRanges, ServiceAccounts and roles, to judge each object with them")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
	_ = cmd.MarkFlagFilename("exemptions", "yaml", "yml")
	return cmd
}

func guardRun(ctx context.Context, opts *GuardOptions) error {
	if len(opts.Hosts) == 0 {
		return usagef("--host: name at least one DNS name or IP the API server uses to reach the guard")
	}
	if opts.CertValidity < time.Hour || opts.CAValidity < opts.CertValidity {
		return usagef("--cert-validity must be at least 1h and --ca-validity at least --cert-validity")
	}
	if opts.RenewCheck <= 0 {
		return usagef("--renew-check must be positive")
	}
	log := slog.New(slog.NewTextHandler(opts.Streams.Err, nil))
	reg, err := registry()
	if err != nil {
		return err
	}
	cfg := guard.DefaultConfig()
	if opts.ConfigFile != "" {
		if cfg, err = guard.ReadConfig(opts.ConfigFile); err != nil {
			return err
		}
	}
	var policy *exempt.Policy
	if opts.Exemptions != "" {
		if policy, err = exempt.Load(opts.Exemptions); err != nil {
			return err
		}
	}

	ca, err := guardCA(ctx, opts)
	if err != nil {
		return err
	}
	if opts.CABundleFile != "" {
		if err := writeFileAtomic(opts.CABundleFile, ca.CertPEM); err != nil {
			return fmt.Errorf("write --ca-bundle-file: %w", err)
		}
	}
	// syncBundle keeps the webhook's caBundle equal to the CA, also after
	// someone re-applies the configuration without it.
	syncBundle := func(context.Context) error { return nil }
	if opts.WebhookConfig != "" {
		target, err := opts.Cluster.Load()
		if err != nil {
			return err
		}
		syncBundle = func(ctx context.Context) error {
			changed, err := cluster.SetWebhookCABundle(ctx, target, opts.WebhookConfig, ca.CertPEM)
			if err == nil && changed {
				log.Info("webhook caBundle set", "webhookConfiguration", opts.WebhookConfig)
			}
			return err
		}
		if err := syncBundle(ctx); err != nil {
			return err
		}
	}
	certs, err := guard.NewCertManager(ca, guard.CertOptions{Hosts: opts.Hosts, Validity: opts.CertValidity})
	if err != nil {
		return err
	}
	gopts := guard.Options{Checks: reg.Checks(), Filter: policy.Split, Config: cfg, Certs: certs, Log: log}
	if opts.WatchRelated {
		target, err := opts.Cluster.Load()
		if err != nil {
			return err
		}
		related, err := cluster.NewGuardContext(target)
		if err != nil {
			return err
		}
		defer related.Stop()
		if err := related.Start(ctx); err != nil {
			return err
		}
		gopts.Related = related.Related
	}
	srv := guard.NewServer(gopts)

	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	hs := &http.Server{Handler: srv.Handler(), TLSConfig: certs.TLSConfig(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Info("guard serving", "addr", ln.Addr().String(), "checks", len(reg.Checks()), "certificateExpires", certs.NotAfter().UTC().Format(time.RFC3339))
	if opts.Ready != nil {
		opts.Ready(ln.Addr().String(), ca.CertPEM)
	}
	grp, gctx := errgroup.WithContext(ctx)
	grp.Go(func() error {
		certs.Run(gctx, opts.RenewCheck, func(err error) { log.Error("renew serving certificate", "err", err) })
		return nil
	})
	grp.Go(func() error {
		t := time.NewTicker(opts.RenewCheck)
		defer t.Stop()
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-t.C:
				if err := syncBundle(gctx); err != nil {
					log.Error("sync webhook caBundle", "err", err)
				}
			}
		}
	})
	grp.Go(func() error {
		if err := hs.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	grp.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	})
	return grp.Wait()
}

// guardCA loads or creates the CA: from the Secret --ca-secret, shared by
// the replicas, or in memory.
func guardCA(ctx context.Context, opts *GuardOptions) (*guard.CA, error) {
	newCA := func() (*guard.CA, error) { return guard.NewCA(time.Now(), opts.CAValidity) }
	if opts.CASecret == "" {
		return newCA()
	}
	ns, name, ok := strings.Cut(opts.CASecret, "/")
	if !ok || ns == "" || name == "" {
		return nil, usagef("--ca-secret %q: want NAMESPACE/NAME", opts.CASecret)
	}
	target, err := opts.Cluster.Load()
	if err != nil {
		return nil, err
	}
	c, k, err := cluster.GuardCA(ctx, target, ns, name, func() ([]byte, []byte, error) {
		ca, err := newCA()
		if err != nil {
			return nil, nil, err
		}
		return ca.CertPEM, ca.KeyPEM, nil
	})
	if err != nil {
		return nil, err
	}
	return guard.ParseCA(c, k)
}

// writeFileAtomic writes b to a temporary file next to path and renames it
// over path, so that a failed write leaves the previous copy intact.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
