package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/drill"
	"github.com/shipshape-dev/shipshape/internal/restore"
)

// DrillOptions are the inputs of `shipshape drill`.
type DrillOptions struct {
	*Globals
	// From is the backup directory or manifest tree.
	From string
	// Identity is the age identity file that decrypts a backup's Secrets.
	Identity string
	// SandboxBin is the shipshape-sandbox binary.
	SandboxBin string
	// TargetKubeconfig names a scratch cluster to restore into instead of
	// a fresh sandbox.
	TargetKubeconfig string
	// Concurrency bounds the objects applied at once within a phase.
	Concurrency int
}

// NewCmdDrill builds `shipshape drill`. runF replaces drillRun in tests of flag parsing.
func NewCmdDrill(g *Globals, runF func(context.Context, *DrillOptions) error) *cobra.Command {
	opts := &DrillOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "drill --from DIR [--identity FILE] [--target-kubeconfig FILE]",
		Short: "Prove a backup restores: restore it into a scratch cluster and compare",
		Long: `Drill is the recovery test to run regularly. It starts a fresh sandbox control plane
(the shipshape-sandbox binary on PATH, or --sandbox-bin), or uses the scratch cluster
--target-kubeconfig names, restores the backup into it as 'shipshape restore' would,
compares every restored object with what the cluster then holds, and reports what
failed and how long the restore took. The cluster of the current context is never
touched.

Exit codes: 0 everything came back, 1 anything failed.`,
		Example: `  # Drill last night's backup in a throw-away sandbox
  shipshape drill --from backup/ --identity key.txt

  # Drill into a scratch cluster you provide
  shipshape drill --from backup/ --target-kubeconfig scratch.kubeconfig`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return drillRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "the backup directory or manifest tree to drill (required)")
	f.StringVar(&opts.Identity, "identity", "", "age identity file that decrypts the backup's Secrets")
	f.StringVar(&opts.SandboxBin, "sandbox-bin", "shipshape-sandbox", "the sandbox binary to start a scratch control plane with")
	f.StringVar(&opts.TargetKubeconfig, "target-kubeconfig", "", "restore into this scratch cluster instead of a fresh sandbox")
	f.IntVar(&opts.Concurrency, "concurrency", 16, "objects applied at once within a phase")
	_ = cmd.MarkFlagDirname("from")
	return cmd
}

func drillRun(ctx context.Context, opts *DrillOptions) error {
	if opts.Output != "table" && opts.Output != "json" {
		return usagef("-o %s: drill prints table or json", opts.Output)
	}
	if opts.Concurrency < 1 {
		return usagef("--concurrency must be at least 1")
	}
	if opts.Cluster.Namespace != "" || opts.Cluster.AllNamespaces || opts.Cluster.Kubeconfig != "" || opts.Cluster.Context != "" {
		return usagef("drill restores into a scratch cluster only: use --target-kubeconfig, not --kubeconfig, --context, -n or -A")
	}
	objects, partial, err := readTree(ctx, opts.Globals, opts.From, opts.Identity)
	if err != nil {
		return err
	}
	kubeconfig := opts.TargetKubeconfig
	where := kubeconfig
	if kubeconfig == "" {
		fmt.Fprintln(opts.Streams.Err, "starting a sandbox control plane ...")
		sb, err := drill.StartSandbox(ctx, opts.SandboxBin, "")
		if err != nil {
			return err
		}
		defer func() {
			if err := sb.Stop(); err != nil {
				fmt.Fprintln(opts.Streams.Err, "warning:", err)
			}
		}()
		kubeconfig, where = sb.Kubeconfig, "a fresh sandbox"
	}
	target, err := cluster.ConfigFlags{Kubeconfig: kubeconfig}.Load()
	if err != nil {
		return err
	}
	bar := newProgress(opts.Streams.Err, opts.Streams.ErrTTY, "restoring")
	rep, runErr := drill.Run(ctx, target, objects, drill.Options{Restore: restore.Options{Concurrency: opts.Concurrency, Progress: bar.Update}})
	bar.Done()
	if rep != nil && rep.Drift != nil {
		if err := writeDrill(opts.Streams.Out, opts.Output, where, rep); err != nil {
			return fmt.Errorf("write drill report: %w", err)
		}
	}
	if runErr != nil {
		return runErr
	}
	if !rep.Passed() || partial {
		return fmt.Errorf("drill failed: %d object(s) did not come back as they were", rep.Failures())
	}
	return nil
}

type drillJSON struct {
	Target         string            `json:"target"`
	Passed         bool              `json:"passed"`
	Failures       int               `json:"failures"`
	RestoreSeconds float64           `json:"restoreSeconds"`
	Restore        []restoreItemJSON `json:"notRestored"`
	Missing        []diffEntryJSON   `json:"missing"`
	Changed        []diffEntryJSON   `json:"changed"`
	Restored       int               `json:"restored"`
}

func writeDrill(w io.Writer, format, where string, rep *drill.Report) error {
	var failed []restore.Item
	restored := 0
	for _, it := range rep.Restore.Items {
		switch it.Action {
		case restore.Create, restore.Update, restore.Unchanged:
			restored++
		default:
			failed = append(failed, it)
		}
	}
	if format == "json" {
		out := drillJSON{Target: where, Passed: rep.Passed(), Failures: rep.Failures(), RestoreSeconds: rep.RestoreDuration.Seconds(),
			Restore: []restoreItemJSON{}, Missing: diffEntries(rep.Drift.OnlyTree), Changed: diffEntries(rep.Drift.Changed), Restored: restored}
		for _, it := range failed {
			out.Restore = append(out.Restore, restoreItemJSON{Phase: it.Phase.String(), Action: string(it.Action), Group: it.Key.Group,
				Kind: it.Key.Kind, Namespace: it.Key.Namespace, Name: it.Key.Name, Location: it.Origin.String(), Detail: it.Detail})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(w, "drill into %s: %d object(s) restored in %s\n", where, restored, rep.RestoreDuration.Round(1e6))
	if len(failed) > 0 {
		fmt.Fprintln(w, "not restored:")
		for _, it := range failed {
			fmt.Fprintf(w, "  %-10s %s%s: %s\n", it.Action, it.Key, at(it.Origin), it.Detail)
		}
	}
	if len(rep.Drift.OnlyTree) > 0 {
		fmt.Fprintln(w, "missing after the restore:")
		for _, e := range rep.Drift.OnlyTree {
			fmt.Fprintf(w, "  %s%s\n", e.Key, at(e.Origin))
		}
	}
	if len(rep.Drift.Changed) > 0 {
		fmt.Fprintln(w, "different after the restore:")
		for _, e := range rep.Drift.Changed {
			fmt.Fprintf(w, "  %s%s\n", e.Key, at(e.Origin))
			for _, c := range e.Changes {
				fmt.Fprintf(w, "      %s\n", c)
			}
		}
	}
	verdict := "PASSED: every object came back as it was"
	if !rep.Passed() {
		verdict = fmt.Sprintf("FAILED: %d object(s) did not come back as they were", rep.Failures())
	}
	_, err := fmt.Fprintln(w, verdict)
	return err
}
