package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/audit/exempt"
	"github.com/shipshape-dev/shipshape/internal/audit/fix"
	"github.com/shipshape-dev/shipshape/internal/audit/rbac"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/gctune"
	"github.com/shipshape-dev/shipshape/internal/yamledit"
)

// AuditOptions are the inputs of `shipshape audit`.
type AuditOptions struct {
	*Globals
	// Filenames are -f: files, directories or "-" for stdin.
	Filenames []string
	// Charts are --chart: chart directories or .tgz archives to render and
	// audit, with ValuesFiles (--values) and Set (--set).
	Charts, ValuesFiles, Set []string
	// Exemptions is --exemptions: a policy file for internal/audit/exempt.
	Exemptions string
	// ShowExempt is --show-exempt: list exempted findings.
	ShowExempt bool
	// Checks selects checks by ID or group; empty means every audit check.
	Checks []string
	// MaxFileSize and MaxDocumentSize are as for scan.
	MaxFileSize, MaxDocumentSize string
}

// NewCmdAudit builds `shipshape audit`. runF replaces auditRun in tests of flag parsing.
func NewCmdAudit(g *Globals, runF func(context.Context, *AuditOptions) error) *cobra.Command {
	opts := &AuditOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "audit [-f FILE|DIR|-]... [--chart DIR|TGZ]",
		Short: "Check workloads and namespaces against the NSA/CISA hardening guidance and Pod Security Standards",
		Long: `Audit runs the hardening and RBAC checks (see 'shipshape checks audit' and 'shipshape
checks rbac') over manifest files, a rendered Helm chart, or, without -f and --chart, the live
cluster of the current kubeconfig context.

Every pod-bearing kind is checked, every container, init and ephemeral ones included; an unset
field is judged by the value Kubernetes applies. A document that cannot be read is a finding with
its file and line, and the rest is still audited.

Findings can be exempted by a policy file (--exemptions) or by the annotations
shipshape.dev/exempt: CHECK[,CHECK] and shipshape.dev/exempt-reason on the object; exempted
findings are counted in the summary and listed with --show-exempt.`,
		Example: `  # Audit manifests in CI
  shipshape audit -f deploy/ --exemptions .shipshape-exemptions.yaml -o sarif

  # Audit a chart as it would be installed
  shipshape audit --chart ./charts/web --values prod.yaml --set replicas=3

  # Audit the cluster and list what is exempted
  shipshape audit -A --show-exempt`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return auditRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.Filenames, "filename", "f", nil, "a manifest file, a directory (read recursively) or - for stdin; repeatable")
	addChartFlags(cmd, &opts.Charts, &opts.ValuesFiles, &opts.Set)
	f.StringVar(&opts.Exemptions, "exemptions", "", "a YAML file of exemptions (check, namespace, names, reason, expires)")
	f.BoolVar(&opts.ShowExempt, "show-exempt", false, "list exempted findings and why")
	f.StringSliceVar(&opts.Checks, "check", nil, "run only these checks, by ID or group; repeatable or comma-separated")
	f.StringVar(&opts.MaxFileSize, "max-file-size", "256Mi", "skip, and report, any file larger than this")
	f.StringVar(&opts.MaxDocumentSize, "max-document-size", "64Mi", "skip, and report, any YAML document larger than this")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	_ = cmd.MarkFlagFilename("exemptions", "yaml", "yml")
	cmd.AddCommand(NewCmdAuditFix(g, nil), NewCmdAuditWhoCan(g))
	return cmd
}

// AuditFixOptions are the inputs of `shipshape audit fix`.
type AuditFixOptions struct {
	*Globals
	// Files are the manifest files to fix.
	Files []string
	// DryRun prints a unified diff instead of writing.
	DryRun bool
}

// NewCmdAuditFix builds `shipshape audit fix`.
func NewCmdAuditFix(g *Globals, runF func(context.Context, *AuditFixOptions) error) *cobra.Command {
	opts := &AuditFixOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "fix FILE...",
		Short: "Apply the safe hardening to manifest files, keeping comments and formatting",
		Long: `Fix sets what the audit asks for where it is safe to do so, on every pod-bearing object:
automountServiceAccountToken: false; on the pod, securityContext.runAsNonRoot: true and
seccompProfile RuntimeDefault; on each container, allowPrivilegeEscalation: false,
readOnlyRootFilesystem: true and capabilities.drop: [ALL]. A field that is already set is never
changed. Containers without resources are listed as TODO: their values must come from usage.

Comments, key order and formatting are kept; each file is replaced atomically. With --dry-run the
changes are printed as a unified diff and nothing is written. A file that cannot be read or
parsed is reported and the others are still fixed.

Check the result: a read-only root filesystem or non-root user can stop an image that writes to
its own filesystem or needs root from starting.`,
		Example: `  shipshape audit fix --dry-run deploy/*.yaml
  shipshape audit fix deploy/web.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%q needs at least one file", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return auditFixRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print a diff and write nothing")
	return cmd
}

func auditFixRun(opts *AuditFixOptions) error {
	out, errw := opts.Streams.Out, opts.Streams.Err
	failed := 0
	for _, path := range opts.Files {
		src, err := os.ReadFile(path)
		if err == nil {
			var res *fix.Result
			if res, err = fix.File(path, src); err == nil {
				err = reportFix(out, res, opts.DryRun)
			}
		}
		if err != nil {
			failed++
			fmt.Fprintln(errw, "error:", err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d file(s) could not be fixed", failed, len(opts.Files))
	}
	return nil
}

func reportFix(out io.Writer, res *fix.Result, dryRun bool) error {
	if dryRun {
		if _, err := io.WriteString(out, yamledit.Diff(res.Path, res.Before, res.After)); err != nil {
			return err
		}
	} else if res.Changed() {
		if err := yamledit.WriteFile(res.Path, res.After); err != nil {
			return err
		}
	}
	for _, line := range res.Summary() {
		if dryRun {
			line = "# " + line
		}
		if _, err := fmt.Fprintln(out, line); err != nil {
			return err
		}
	}
	return nil
}

func auditRun(ctx context.Context, opts *AuditOptions) error {
	defer gctune.Batch()()
	if err := opts.checkOutputFlags(); err != nil {
		return err
	}
	reg, err := finding.NewRegistry(append(audit.Checks(), rbac.Checks()...)...)
	if err != nil {
		return err
	}
	checks, err := selectChecks(reg, opts.Checks)
	if err != nil {
		return err
	}
	var policy *exempt.Policy
	if opts.Exemptions != "" {
		if policy, err = exempt.Load(opts.Exemptions); err != nil {
			return err
		}
	}
	limits, err := (&ScanOptions{MaxFileSize: opts.MaxFileSize, MaxDocumentSize: opts.MaxDocumentSize}).limits()
	if err != nil {
		return err
	}
	snap, _, err := inputs{Filenames: opts.Filenames, Charts: opts.Charts, ValuesFiles: opts.ValuesFiles, Set: opts.Set, Limits: limits}.read(ctx, opts.Globals)
	if err != nil {
		return err
	}
	report := finding.Evaluate(ctx, snap, checks)
	kept, exempted := policy.Split(report.Findings, snap)
	report.Exempt(kept, exempted, opts.ShowExempt)
	return writeReport(opts.Streams.Out, opts.Globals, "shipshape audit", checks, report)
}
