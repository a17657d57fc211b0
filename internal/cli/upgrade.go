package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/gctune"
	"github.com/shipshape-dev/shipshape/internal/upgrade"
)

// UpgradeOptions are the inputs of `shipshape upgrade`.
type UpgradeOptions struct {
	*Globals
	// Filenames are -f: files, directories or "-".
	Filenames []string
	// Charts are --chart: chart directories or .tgz archives, rendered with
	// ValuesFiles and Set.
	Charts      []string
	ValuesFiles []string
	Set         []string
	// TargetVersion is --target-version ("1.37"); empty picks the default.
	TargetVersion string
	// MaxFileSize and MaxDocumentSize are as for scan.
	MaxFileSize, MaxDocumentSize string
}

// NewCmdUpgrade builds `shipshape upgrade` and its `fix` subcommand.
func NewCmdUpgrade(g *Globals, runF func(context.Context, *UpgradeOptions) error) *cobra.Command {
	opts := &UpgradeOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "upgrade [-f FILE|DIR|-]... [--chart CHART]... [--target-version 1.N]",
		Short: "Find what breaks or is deprecated in the next Kubernetes version",
		Long: `Upgrade judges readiness for a Kubernetes version: apiVersions the target removes (critical) or
deprecates (medium), with the replacement and where each one is used; Helm charts whose kubeVersion
excludes the target; and, on a live cluster, the control plane's support window and the kubelet skew
of its nodes.

Inputs: manifest files, directories and stdin (-f); Helm charts (--chart, a directory or .tgz,
rendered offline with --values and --set); or, without either, the live cluster of the current
context, where it reads which apiVersion each object's writers use (metadata.managedFields, then the
last-applied annotation), the manifests of Helm releases (latest deployed revision; use -A for all
namespaces), and the API server's apiserver_requested_deprecated_apis metric when readable.

--target-version defaults to the live cluster's minor plus one, or for files and charts to the newest
Kubernetes release shipshape knows.`,
		Example: `  # Is the cluster ready for its next minor release?
  shipshape upgrade -A

  # Files and a chart against 1.37, failing CI on anything removed
  shipshape upgrade -f deploy/ --chart charts/web --values prod.yaml --target-version 1.37 --fail-on critical

  # Rewrite manifests to the replacement APIs, showing the diff first
  shipshape upgrade fix --dry-run deploy/ingress.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return upgradeRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.Filenames, "filename", "f", nil, "a manifest file, a directory (read recursively) or - for stdin; repeatable")
	addChartFlags(cmd, &opts.Charts, &opts.ValuesFiles, &opts.Set)
	f.StringVar(&opts.TargetVersion, "target-version", "", "the Kubernetes version to check against, e.g. 1.37 (default: the cluster's minor + 1, or the newest known)")
	f.StringVar(&opts.MaxFileSize, "max-file-size", "256Mi", "skip, and report, any file larger than this")
	f.StringVar(&opts.MaxDocumentSize, "max-document-size", "64Mi", "skip, and report, any YAML document larger than this")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	cmd.AddCommand(newCmdUpgradeFix(g))
	return cmd
}

func upgradeRun(ctx context.Context, opts *UpgradeOptions) error {
	defer gctune.Batch()()
	if err := opts.checkOutputFlags(); err != nil {
		return err
	}
	var uo upgrade.Options
	if opts.TargetVersion != "" {
		v, err := upgrade.ParseVersion(opts.TargetVersion)
		if err != nil {
			return usagef("--target-version: %v", err)
		}
		uo.Target = v
	}
	limits, err := (&ScanOptions{MaxFileSize: opts.MaxFileSize, MaxDocumentSize: opts.MaxDocumentSize}).limits()
	if err != nil {
		return err
	}
	in := inputs{Filenames: opts.Filenames, Charts: opts.Charts, ValuesFiles: opts.ValuesFiles, Set: opts.Set, Limits: limits}
	if !uo.Target.IsZero() {
		in.KubeVersion = uo.Target.String() + ".0"
	}
	snap, charts, err := in.read(ctx, opts.Globals)
	if err != nil {
		return err
	}
	for _, c := range charts {
		uo.Charts = append(uo.Charts, upgrade.Chart{Path: c.Path, Name: c.Name, Version: c.Version, KubeVersion: c.KubeVersion})
	}
	if !in.files() {
		target, err := opts.Cluster.Load()
		if err != nil {
			return err
		}
		reqs, err := cluster.DeprecatedAPIRequests(ctx, target)
		if err != nil {
			uo.RequestedUnreadable = err.Error()
		}
		for _, r := range reqs {
			uo.Requested = append(uo.Requested, upgrade.Request(r))
		}
	}

	checks := upgrade.Checks(uo)
	report := finding.Evaluate(ctx, snap, checks)
	return writeReport(opts.Streams.Out, opts.Globals, "shipshape upgrade", append([]finding.Check{finding.InvalidDocument()}, checks...), report)
}
