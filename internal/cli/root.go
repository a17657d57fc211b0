package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/render"
)

// Globals are the flags every command shares, bound once on the root command.
type Globals struct {
	Streams Streams
	// Cluster holds --kubeconfig, --context, -n and -A.
	Cluster cluster.ConfigFlags
	// Output is -o.
	Output string
	// FailOn is --fail-on: a severity name, or "none".
	FailOn string
}

// format parses -o.
func (g *Globals) format() (render.Format, error) {
	f, err := render.ParseFormat(g.Output)
	if err != nil {
		return f, &usageError{fmt.Errorf("-o: %w", err)}
	}
	return f, nil
}

// threshold parses --fail-on; ok is false for "none".
func (g *Globals) threshold() (sev finding.Severity, ok bool, err error) {
	if strings.EqualFold(g.FailOn, "none") {
		return 0, false, nil
	}
	sev, err = finding.ParseSeverity(g.FailOn)
	if err != nil {
		return 0, false, &usageError{fmt.Errorf("--fail-on: %w (or none)", err)}
	}
	return sev, true, nil
}

// NewRootCmd builds the whole command tree for one run.
func NewRootCmd(streams Streams) *cobra.Command { return newRootCmd(streams, runners{}) }

// runners replace the commands' run functions in tests of flag parsing.
type runners struct {
	scan   func(context.Context, *ScanOptions) error
	checks func(context.Context, *ChecksOptions) error
}

func newRootCmd(streams Streams, run runners) *cobra.Command {
	g := &Globals{Streams: streams}
	root := &cobra.Command{
		Use:   "shipshape",
		Short: "Guardrails for Kubernetes: certificates, backups, upgrades and hardening, checked",
		Long: `shipshape reads a live cluster or manifest files, judges them against the lessons of
running Kubernetes in production, and reports findings that people, CI and alerts act on.

Exit codes: 0 nothing at or above --fail-on, 1 error, 2 usage, 3 a finding at or above --fail-on.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// A bare "shipshape" prints help; "shipshape nosuchverb" is a usage error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })

	pf := root.PersistentFlags()
	pf.StringVar(&g.Cluster.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	pf.StringVar(&g.Cluster.Context, "context", "", "the kubeconfig context to use (default: the current context)")
	pf.StringVarP(&g.Cluster.Namespace, "namespace", "n", "", "the namespace to read (default: the context's namespace)")
	pf.BoolVarP(&g.Cluster.AllNamespaces, "all-namespaces", "A", false, "read every namespace")
	pf.StringVarP(&g.Output, "output", "o", "table", "output format: "+strings.Join(render.Formats(), "|"))
	pf.StringVar(&g.FailOn, "fail-on", "high", "exit 3 when a finding is at or above this severity: info|low|medium|high|critical|none")

	_ = root.RegisterFlagCompletionFunc("context", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		names, err := g.Cluster.Contexts()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.RegisterFlagCompletionFunc("output", fixedCompletion(render.Formats()...))
	_ = root.RegisterFlagCompletionFunc("fail-on", fixedCompletion("info", "low", "medium", "high", "critical", "none"))

	root.AddCommand(
		NewCmdScan(g, run.scan),
		NewCmdChecks(g, run.checks),
		NewCmdAudit(g, nil),
		NewCmdVersion(g),
		NewCmdBackup(g, nil, nil),
		NewCmdRestore(g, nil),
		NewCmdDiff(g, nil),
		NewCmdDrill(g, nil),
		NewCmdCerts(g, nil),
		NewCmdUpgrade(g, nil),
		NewCmdGuard(g, nil),
	)
	return root
}

func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%q takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}
