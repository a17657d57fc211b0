package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/certs"
	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/render"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// CertsOptions are the inputs of `shipshape certs`.
type CertsOptions struct {
	*Globals
	Root      string
	Paths     []string
	Endpoints []string
	// EndpointCert and EndpointKey are a client certificate for --endpoint.
	EndpointCert, EndpointKey string
	// NoCluster skips the live cluster even when a kubeconfig is found.
	NoCluster   bool
	MetricsFile string
	ConfigFile  string
	// Thresholds and validities as given (durations with d and y).
	LeafHigh, LeafCritical, CAHigh, CACritical string
	ExpectValidity, ExpectCAValidity           string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewCmdCerts builds `shipshape certs`. runF replaces certsRun in tests of flag parsing.
func NewCmdCerts(g *Globals, runF func(context.Context, *CertsOptions) error) *cobra.Command {
	opts := &CertsOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "certs [--root DIR] [--path FILE|DIR]... [--endpoint HOST:PORT]...",
		Short: "Find every certificate a cluster depends on and judge expiry, lifetime, chains and keys",
		Long: `Certs finds certificates in a node's filesystem (--root: the kubeadm PKI, kubeconfigs,
kubelet certificates, the service-account key pair), in other files (--path: PEM, DER,
PKCS#12 without a password, kubeconfigs), in the live cluster when one is configured
(TLS Secrets, Secret and ConfigMap values holding PEM, webhook, APIService and CRD
caBundles, issued CSRs, and the API server's serving chain) and on TLS endpoints
(--endpoint). It reports expired and expiring certificates, lifetimes that differ from
their siblings or the intended validity, broken chains, mismatched keys, stale kubeconfig
CA data, missing API server SANs and weak algorithms.

With -o table it first prints every certificate sorted by time left. --metrics-file
writes Prometheus text exposition for node-exporter's textfile collector.`,
		Example: `  # A control-plane node's PKI, as root
  shipshape certs --root / --no-cluster

  # The live cluster, plus etcd presenting a client certificate
  shipshape certs --endpoint 10.0.0.5:2379 --endpoint-cert etcd/healthcheck-client.crt --endpoint-key etcd/healthcheck-client.key

  # Metrics for node-exporter, every hour from cron
  shipshape certs --root / --no-cluster --metrics-file /var/lib/node-exporter/shipshape-certs.prom --fail-on none -o json >/dev/null`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return certsRun(cmd.Context(), cmd, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Root, "root", "", "a node's filesystem, read as that node's / (e.g. / on a control-plane node)")
	f.StringArrayVar(&opts.Paths, "path", nil, "a certificate, key, PKCS#12 or kubeconfig file, or a directory read recursively; repeatable")
	f.StringArrayVar(&opts.Endpoints, "endpoint", nil, "a TLS endpoint host:port whose serving chain to check; repeatable")
	f.StringVar(&opts.EndpointCert, "endpoint-cert", "", "client certificate (PEM) to present to --endpoint servers that require one")
	f.StringVar(&opts.EndpointKey, "endpoint-key", "", "private key (PEM) for --endpoint-cert")
	f.BoolVar(&opts.NoCluster, "no-cluster", false, "do not read the live cluster even when a kubeconfig is found")
	f.StringVar(&opts.MetricsFile, "metrics-file", "", "write Prometheus text exposition of every certificate to this file (atomically)")
	f.StringVar(&opts.ConfigFile, "config", "", "a YAML file with thresholds: leafHigh, leafCritical, caHigh, caCritical, expectValidity, expectCAValidity; flags win")
	f.StringVar(&opts.LeafHigh, "leaf-high", "30d", "report a leaf certificate as high with less time left than this")
	f.StringVar(&opts.LeafCritical, "leaf-critical", "7d", "report a leaf certificate as critical with less time left than this")
	f.StringVar(&opts.CAHigh, "ca-high", "365d", "report a CA as high with less time left than this")
	f.StringVar(&opts.CACritical, "ca-critical", "90d", "report a CA as critical with less time left than this")
	f.StringVar(&opts.ExpectValidity, "expect-validity", "", "the intended lifetime of node leaf certificates, e.g. 3y (default: kubeadm's certificateValidityPeriod when found)")
	f.StringVar(&opts.ExpectCAValidity, "expect-ca-validity", "", "the intended lifetime of CAs (default: kubeadm's caCertificateValidityPeriod when found)")
	_ = cmd.MarkFlagDirname("root")
	cmd.AddCommand(newCmdCertsRenew(g))
	return cmd
}

// CertsRenewOptions are the inputs of `shipshape certs renew`.
type CertsRenewOptions struct {
	*Globals
	Root, Validity, BackupDir string
	Only                      []string
	ReuseKey, DryRun          bool
}

func newCmdCertsRenew(g *Globals) *cobra.Command {
	opts := &CertsRenewOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "renew --root DIR [--only NAME]... [--validity D] [--dry-run]",
		Short: "Re-sign a kubeadm PKI's leaf certificates with their on-disk CAs",
		Long: `Renew re-signs each leaf certificate of a kubeadm-layout PKI (and the client certificates
embedded in admin.conf, super-admin.conf, controller-manager.conf and scheduler.conf) with
its CA from the same PKI. It keeps the subject, every SAN (DNS, IP, URI, email) and the key
usages, makes a new key unless --reuse-key, and never goes past the CA's NotAfter.

The validity comes from --validity, else certificateValidityPeriod of a kubeadm
configuration in DIR/etc/kubernetes, else the most common lifetime of the current
certificates; when none of these answers, renew stops and asks for --validity. It never
falls back to a default, and says which source it used.

Every replaced file is copied first to a timestamped folder under
DIR/etc/kubernetes/shipshape-backup/ (or --backup-dir); files are written atomically with
their previous mode and owner. CAs are not rotated; an expiring CA is reported with the
steps to rotate it. Restart the components listed at the end.`,
		Example: `  shipshape certs renew --root / --dry-run
  shipshape certs renew --root / --only etcd/server --validity 3y`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return certsRenewRun(opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.Root, "root", "", "the node's filesystem holding etc/kubernetes (e.g. /); required")
	f.StringArrayVar(&opts.Only, "only", nil, "renew only this certificate (apiserver, etcd/server, admin.conf, ...); repeatable")
	f.StringVar(&opts.Validity, "validity", "", "the new lifetime, e.g. 8760h, 365d or 3y (default: kubeadm configuration, else the current certificates' common lifetime)")
	f.BoolVar(&opts.ReuseKey, "reuse-key", false, "keep each certificate's private key")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print what would be renewed and change nothing")
	f.StringVar(&opts.BackupDir, "backup-dir", "", "where to copy the replaced files (default DIR/etc/kubernetes/shipshape-backup/TIMESTAMP)")
	return cmd
}

func certsRenewRun(opts *CertsRenewOptions) error {
	if opts.Root == "" {
		return usagef("--root is required")
	}
	var validity time.Duration
	if opts.Validity != "" {
		d, err := certs.ParseDuration(opts.Validity)
		if err != nil || d <= 0 {
			return usagef("--validity %q: want a positive duration such as 8760h, 365d or 3y", opts.Validity)
		}
		validity = d
	}
	res, err := certs.Renew(certs.RenewOptions{Root: opts.Root, Only: opts.Only, Validity: validity, ReuseKey: opts.ReuseKey, DryRun: opts.DryRun, BackupDir: opts.BackupDir})
	if err != nil {
		return err
	}
	w := opts.Streams.Out
	verb := "renewed"
	if opts.DryRun {
		verb = "would renew"
	}
	fmt.Fprintf(w, "validity %s, from %s\n", certs.HumanDuration(res.Validity), res.ValidityFrom)
	for _, r := range res.Renewed {
		capped := ""
		if r.Capped {
			capped = " (capped at its CA's NotAfter)"
		}
		fmt.Fprintf(w, "%s %s: not after %s -> %s%s\n", verb, r.Name, r.OldNotAfter.UTC().Format(time.RFC3339), r.NewNotAfter.UTC().Format(time.RFC3339), capped)
	}
	if res.BackupDir != "" {
		fmt.Fprintf(w, "previous files: %s\n", res.BackupDir)
	}
	for _, c := range res.CAWarnings {
		fmt.Fprintf(w, "warning: %s\n", c)
	}
	if len(res.Restart) > 0 {
		fmt.Fprintf(w, "restart: %s\n", strings.Join(res.Restart, ", "))
	}
	if renewedAny(res.Renewed, "admin.conf", "super-admin.conf") {
		fmt.Fprintln(w, "admin.conf and super-admin.conf users must fetch their new kubeconfigs; copies elsewhere still hold the old certificates.")
	}
	return nil
}

// certsConfig is the --config file.
type certsConfig struct {
	LeafHigh         string `json:"leafHigh"`
	LeafCritical     string `json:"leafCritical"`
	CAHigh           string `json:"caHigh"`
	CACritical       string `json:"caCritical"`
	ExpectValidity   string `json:"expectValidity"`
	ExpectCAValidity string `json:"expectCAValidity"`
}

// policy reads the thresholds from the config file and the flags; a flag
// set on the command line wins over the file.
func (o *CertsOptions) policy(cmd *cobra.Command) (certs.Policy, error) {
	if o.ConfigFile != "" {
		data, err := os.ReadFile(o.ConfigFile)
		if err != nil {
			return certs.Policy{}, fmt.Errorf("read --config: %w", err)
		}
		var c certsConfig
		if err := yaml.UnmarshalStrict(data, &c); err != nil {
			return certs.Policy{}, usagef("--config %s: %v", o.ConfigFile, err)
		}
		for _, v := range []struct {
			flag, value string
			into        *string
		}{
			{"leaf-high", c.LeafHigh, &o.LeafHigh}, {"leaf-critical", c.LeafCritical, &o.LeafCritical},
			{"ca-high", c.CAHigh, &o.CAHigh}, {"ca-critical", c.CACritical, &o.CACritical},
			{"expect-validity", c.ExpectValidity, &o.ExpectValidity}, {"expect-ca-validity", c.ExpectCAValidity, &o.ExpectCAValidity},
		} {
			if v.value != "" && (cmd == nil || !cmd.Flags().Changed(v.flag)) {
				*v.into = v.value
			}
		}
	}
	var p certs.Policy
	for _, v := range []struct {
		flag, value string
		into        *time.Duration
	}{
		{"--leaf-high", o.LeafHigh, &p.LeafHigh}, {"--leaf-critical", o.LeafCritical, &p.LeafCritical},
		{"--ca-high", o.CAHigh, &p.CAHigh}, {"--ca-critical", o.CACritical, &p.CACritical},
		{"--expect-validity", o.ExpectValidity, &p.ExpectValidity}, {"--expect-ca-validity", o.ExpectCAValidity, &p.ExpectCAValidity},
	} {
		if v.value == "" {
			continue
		}
		d, err := certs.ParseDuration(v.value)
		if err != nil || d < 0 {
			return p, usagef("%s %q: want a duration such as 720h, 30d or 3y", v.flag, v.value)
		}
		*v.into = d
	}
	return p, nil
}

func certsRun(ctx context.Context, cmd *cobra.Command, opts *CertsOptions) error {
	format, err := opts.format()
	if err != nil {
		return err
	}
	threshold, gate, err := opts.threshold()
	if err != nil {
		return err
	}
	policy, err := opts.policy(cmd)
	if err != nil {
		return err
	}
	if (opts.EndpointCert == "") != (opts.EndpointKey == "") {
		return usagef("--endpoint-cert and --endpoint-key go together")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}

	inv, err := certs.ReadFiles(ctx, certs.FileOptions{Root: opts.Root, Paths: opts.Paths})
	if err != nil {
		return err
	}
	snap := &snapshot.Snapshot{Source: snapshot.SourceFiles}
	liveObjects := 0
	if !opts.NoCluster {
		live, objects, err := certsLive(ctx, opts, inv)
		if err != nil {
			return err
		}
		if live != nil {
			snap = live
		}
		liveObjects = objects
	}
	if len(opts.Endpoints) > 0 {
		var client *tls.Certificate
		if opts.EndpointCert != "" {
			c, err := tls.LoadX509KeyPair(opts.EndpointCert, opts.EndpointKey)
			if err != nil {
				return usagef("--endpoint-cert/--endpoint-key: %v", err)
			}
			client = &c
		}
		for _, addr := range opts.Endpoints {
			chain, err := certs.DialChain(ctx, certs.Endpoint{Addr: addr, ClientCert: client})
			if err != nil {
				inv.Merge(certs.EndpointProblem(addr, fmt.Errorf("TLS handshake failed: %w", err)))
				continue
			}
			inv.Merge(certs.FromChain(addr, "", chain))
		}
	}

	at := now()
	findings := certs.Judge(inv, policy, at)
	checks := certs.ChecksWith(policy, now)
	report := finding.NewReport(snap, len(checks), findings)
	if liveObjects > 0 {
		// The live objects were judged page by page and not kept.
		report.Summary.Objects = liveObjects
	}
	if len(inv.Problems) > 0 {
		report.Partial = true
	}
	if opts.MetricsFile != "" {
		if err := certs.WriteMetricsFile(opts.MetricsFile, inv, at); err != nil {
			return err
		}
	}
	if format == render.Table {
		rows := certs.Rows(inv, at)
		table := make([]render.CertRow, 0, len(rows))
		for _, r := range rows {
			table = append(table, render.CertRow{Source: r.Source, Subject: r.Subject, Issuer: r.Issuer, NotAfter: r.NotAfter, Left: certs.HumanDuration(r.Left), Lifetime: certs.HumanDuration(r.Lifetime)})
		}
		if err := render.WriteCertTable(opts.Streams.Out, table); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	ropts := renderOptions(opts.Globals, "shipshape certs", checks)
	ropts.FailAt, ropts.NeverFail = threshold, !gate
	if err := render.Write(opts.Streams.Out, format, report, ropts); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if n := report.AtOrAbove(threshold); gate && n > 0 {
		return &thresholdError{count: n, threshold: threshold}
	}
	return nil
}

// certsLive reads the live cluster's certificates into inv when a cluster is
// configured, judging each page of objects as it arrives rather than keeping
// them; it returns the snapshot (server and gaps, no objects) and how many
// objects were read. Without an explicit --kubeconfig or --context a missing
// configuration is not an error: files alone are a complete run.
func certsLive(ctx context.Context, opts *CertsOptions, inv *certs.Inventory) (*snapshot.Snapshot, int, error) {
	if opts.Cluster.Namespace != "" && opts.Cluster.AllNamespaces {
		return nil, 0, usagef("-n and -A cannot be used together")
	}
	flags := opts.Cluster
	if flags.Namespace == "" {
		// Certificates anywhere in the cluster matter; -n narrows it.
		flags.AllNamespaces = true
	}
	target, err := flags.Load()
	if err != nil {
		explicit := opts.Cluster.Kubeconfig != "" || opts.Cluster.Context != "" || os.Getenv("KUBECONFIG") != ""
		if explicit {
			return nil, 0, err
		}
		return nil, 0, nil
	}
	bar := newProgress(opts.Streams.Err, opts.Streams.ErrTTY, "reading cluster")
	col := certs.NewCollector()
	snap, err := cluster.Stream(ctx, target, cluster.StreamOptions{
		SnapshotOptions: cluster.SnapshotOptions{Resources: certs.Resources(), Progress: bar.Update},
		Typed:           certs.TypedResources(),
	}, col.Page)
	bar.Done()
	if err != nil {
		if opts.Root == "" && len(opts.Paths) == 0 && len(opts.Endpoints) == 0 {
			return nil, 0, err
		}
		// Other sources were asked for: report the cluster as unreadable
		// and judge the rest.
		inv.Merge(certs.EndpointProblem(target.Host, fmt.Errorf("cannot read the cluster: %w", err)))
		return nil, 0, nil
	}
	inv.Merge(col.Inventory())
	addr, chain, err := cluster.ServingChain(ctx, target)
	if err != nil {
		inv.Merge(certs.EndpointProblem(addr, err))
	} else {
		live := certs.FromChain(addr, "apiserver", chain)
		if host := hostOf(addr); host != "" {
			live.APIServerNames = append(live.APIServerNames, host)
		}
		inv.Merge(live)
	}
	return snap, col.Objects(), nil
}

func hostOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			h := addr[:i]
			if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
				h = h[1 : len(h)-1]
			}
			return h
		}
	}
	return addr
}

func renewedAny(rs []certs.Renewed, names ...string) bool {
	for _, r := range rs {
		for _, n := range names {
			if r.Name == n {
				return true
			}
		}
	}
	return false
}
