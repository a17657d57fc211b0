package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shipshape-dev/shipshape/internal/audit/exempt"
	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/gctune"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/render"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
	"github.com/shipshape-dev/shipshape/internal/version"
)

// ScanOptions are the inputs of `shipshape scan`.
type ScanOptions struct {
	*Globals
	// Filenames are -f: files, directories (read recursively) or "-" for stdin.
	// Without any (and without --chart), scan reads the live cluster.
	Filenames []string
	// Charts are --chart: Helm chart directories or .tgz archives, rendered
	// offline with ValuesFiles (--values) and Set (--set).
	Charts, ValuesFiles, Set []string
	// Checks selects checks by ID or by group prefix ("inventory"); empty means all.
	Checks []string
	// MaxFileSize and MaxDocumentSize bound what one file or document may
	// hold, as quantities ("256Mi").
	MaxFileSize, MaxDocumentSize string
	// Exemptions is --exemptions, a policy file as for `shipshape audit`;
	// the shipshape.dev/exempt annotations apply with or without one.
	Exemptions string
	// ShowExempt is --show-exempt: list exempted findings.
	ShowExempt bool
	// BackupDir and MaxBackupAge configure the backup/* disaster-readiness checks.
	BackupDir    string
	MaxBackupAge time.Duration
}

// NewCmdScan builds `shipshape scan`. runF replaces scanRun in tests of flag parsing.
func NewCmdScan(g *Globals, runF func(context.Context, *ScanOptions) error) *cobra.Command {
	opts := &ScanOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "scan [-f FILE|DIR|-]...",
		Short: "Run every check over a live cluster or manifest files and print one report",
		Long: `Scan reads its input once and runs every registered check over it (see 'shipshape checks').

Without -f it reads the cluster of the current kubeconfig context: every served API,
custom resources and aggregated APIs included, in the context's namespace or, with -A,
in all namespaces. Anything it may not read (a forbidden resource, an aggregated API
whose backend is down) is listed as a warning and the report is marked partial.

With -f it reads manifest files: YAML (multi-document), JSON and kind: List; directories
are read recursively; "-" reads standard input. A document that cannot be read is a
finding with its file and line, and every other document is still read. With --chart it
renders Helm charts offline (--values, --set) and scans what they produce.

Findings exempted by --exemptions or by the shipshape.dev/exempt annotation are
counted in the summary and listed with --show-exempt (see 'shipshape audit --help').`,
		Example: `  # Scan the cluster of the current context, all namespaces
  shipshape scan -A

  # Scan manifests in CI and fail on anything medium or worse
  shipshape scan -f deploy/ --fail-on medium -o sarif > shipshape.sarif

  # Scan rendered Helm output from standard input
  helm template my-chart | shipshape scan -f -`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return scanRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Filenames, "filename", "f", nil, "a manifest file, a directory (read recursively) or - for stdin; repeatable")
	addChartFlags(cmd, &opts.Charts, &opts.ValuesFiles, &opts.Set)
	cmd.Flags().StringVar(&opts.MaxFileSize, "max-file-size", "256Mi", "skip, and report, any file larger than this")
	cmd.Flags().StringVar(&opts.MaxDocumentSize, "max-document-size", "64Mi", "skip, and report, any YAML document larger than this")
	cmd.Flags().StringSliceVar(&opts.Checks, "check", nil, "run only these checks, by ID or group (e.g. inventory); repeatable or comma-separated")
	cmd.Flags().StringVar(&opts.Exemptions, "exemptions", "", "a YAML file of exemptions (check, namespace, names, reason, expires)")
	cmd.Flags().BoolVar(&opts.ShowExempt, "show-exempt", false, "list exempted findings and why")
	cmd.Flags().StringVar(&opts.BackupDir, "backup-dir", "", "where shipshape backups are kept: enables backup/freshness and backup/sealed-secrets-key")
	cmd.Flags().DurationVar(&opts.MaxBackupAge, "max-backup-age", 26*time.Hour, "backup/freshness: the newest backup in --backup-dir must be younger than this")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	_ = cmd.MarkFlagDirname("backup-dir")
	_ = cmd.MarkFlagFilename("exemptions", "yaml", "yml")
	_ = cmd.RegisterFlagCompletionFunc("check", completeCheckIDs)
	return cmd
}

func scanRun(ctx context.Context, opts *ScanOptions) error {
	defer gctune.Batch()()
	if err := opts.checkOutputFlags(); err != nil {
		return err
	}
	reg, err := registryWith(checkConfig{BackupDir: opts.BackupDir, MaxBackupAge: opts.MaxBackupAge})
	if err != nil {
		return err
	}
	checks, err := selectChecks(reg, opts.Checks)
	if err != nil {
		return err
	}

	limits, err := opts.limits()
	if err != nil {
		return err
	}
	var policy *exempt.Policy
	if opts.Exemptions != "" {
		if policy, err = exempt.Load(opts.Exemptions); err != nil {
			return err
		}
	}
	snap, _, err := inputs{Filenames: opts.Filenames, Charts: opts.Charts, ValuesFiles: opts.ValuesFiles, Set: opts.Set, Limits: limits}.read(ctx, opts.Globals)
	if err != nil {
		return err
	}
	report := finding.Evaluate(ctx, snap, checks)
	kept, exempted := policy.Split(report.Findings, snap)
	report.Exempt(kept, exempted, opts.ShowExempt)
	return writeReport(opts.Streams.Out, opts.Globals, "shipshape scan", checks, report)
}

// readInput reads files when any are named, else the live cluster.
func readInput(ctx context.Context, g *Globals, filenames []string, mo manifest.Options) (*snapshot.Snapshot, error) {
	if len(filenames) > 0 {
		if g.Cluster.Namespace != "" || g.Cluster.AllNamespaces {
			return nil, usagef("-n and -A select namespaces of a live cluster; they do not apply to -f")
		}
		mo.Stdin = g.Streams.In
		bar := newProgress(g.Streams.Err, g.Streams.ErrTTY, "reading files")
		defer bar.Done()
		mo.Progress = bar.Update
		snap, err := manifest.Read(ctx, filenames, mo)
		if err != nil {
			return nil, err
		}
		return snap, nil
	}
	if g.Cluster.Namespace != "" && g.Cluster.AllNamespaces {
		return nil, usagef("-n and -A cannot be used together")
	}
	target, err := g.Cluster.Load()
	if err != nil {
		return nil, err
	}
	bar := newProgress(g.Streams.Err, g.Streams.ErrTTY, "reading cluster")
	defer bar.Done()
	return cluster.Snapshot(ctx, target, cluster.SnapshotOptions{Progress: bar.Update})
}

// limits parses --max-file-size and --max-document-size.
func (o *ScanOptions) limits() (manifest.Options, error) {
	var mo manifest.Options
	for _, l := range []struct {
		flag, value string
		into        *int64
	}{
		{"--max-file-size", o.MaxFileSize, &mo.MaxFileBytes},
		{"--max-document-size", o.MaxDocumentSize, &mo.MaxDocumentBytes},
	} {
		q, err := resource.ParseQuantity(l.value)
		if err != nil || q.Sign() <= 0 {
			return mo, usagef("%s %q: want a positive size such as 256Mi", l.flag, l.value)
		}
		*l.into = q.Value()
	}
	return mo, nil
}

// selectChecks keeps the checks whose ID or group matches one of the names.
func selectChecks(reg *finding.Registry, names []string) ([]finding.Check, error) {
	all := reg.Checks()
	if len(names) == 0 {
		return all, nil
	}
	var out []finding.Check
	for _, name := range names {
		name = strings.TrimSuffix(strings.TrimSpace(name), "/")
		n := 0
		for _, c := range all {
			if c.ID == name || strings.HasPrefix(c.ID, name+"/") {
				out = append(out, c)
				n++
			}
		}
		if n == 0 {
			return nil, usagef("--check %q: no such check or group (see 'shipshape checks')", name)
		}
	}
	return out, nil
}

func renderOptions(g *Globals, title string, checks []finding.Check) render.Options {
	v := version.Get()
	return render.Options{
		Title:  title,
		Checks: checks,
		Tool:   render.Tool{Name: "shipshape", Version: v.Version, InformationURI: "https://github.com/shipshape-dev/shipshape"},
		Color:  g.Streams.OutTTY,
		Width:  g.Streams.Width,
	}
}

func completeCheckIDs(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	reg, err := registry()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var ids []string
	for _, c := range reg.Checks() {
		ids = append(ids, c.ID+"\t"+c.Title)
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}
