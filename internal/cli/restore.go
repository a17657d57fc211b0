package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/backup"
	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/drift"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/restore"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// RestoreOptions are the inputs of `shipshape restore`.
type RestoreOptions struct {
	*Globals
	// From is the backup directory or manifest tree.
	From string
	// Identity is the age identity file that decrypts a backup's Secrets.
	Identity string
	// DryRun applies with dryRun=All.
	DryRun bool
	// ForceConflicts takes over fields other field managers own.
	ForceConflicts bool
	// Kinds restricts the kinds restored.
	Kinds []string
	// Concurrency bounds the objects applied at once within a phase.
	Concurrency int
}

// NewCmdRestore builds `shipshape restore`. runF replaces restoreRun in tests of flag parsing.
func NewCmdRestore(g *Globals, runF func(context.Context, *RestoreOptions) error) *cobra.Command {
	opts := &RestoreOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "restore --from DIR [--identity FILE] [--dry-run]",
		Short: "Restore a backup or manifest tree into a cluster, in dependency order",
		Long: `Restore applies every object of a backup (or of any manifest tree) to the cluster of the
current context with server-side apply, field manager "shipshape", in phases:
CRDs (waiting until Established and NamesAccepted) → Namespaces → class-like cluster
objects → RBAC, ServiceAccounts, quotas, limit ranges, network policies → Secrets,
ConfigMaps → PVs, PVCs → Services, Endpoints → workloads → Ingresses and Gateway
routes → other custom resources → APIServices → webhook configurations. Then objects
are linked again to the owners the backup recorded by name (field manager
"shipshape-owners"); a missing owner is reported and its link left out.

Objects whose API the cluster does not serve are listed before anything is applied,
and skipped. A live object that differs in fields another field manager owns is
reported as a conflict and left alone unless --force-conflicts is given. A restore
can be run again: objects already as desired are reported unchanged and not written.

-n restores only the named namespaces (comma-separated) and their Namespace objects;
cluster-scoped objects are then left out.

Exit codes: 0 everything restored (or, with --dry-run, would be), 1 anything else.`,
		Example: `  # See what a restore would do, field by field
  shipshape restore --from backup/ --identity key.txt --dry-run

  # Restore two namespaces only
  shipshape restore --from backup/ --identity key.txt -n shop,payments`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return restoreRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "the backup directory or manifest tree to restore (required)")
	f.StringVar(&opts.Identity, "identity", "", "age identity file that decrypts the backup's Secrets")
	f.BoolVar(&opts.DryRun, "dry-run", false, "ask the server what would change (dryRun=All) and store nothing")
	f.BoolVar(&opts.ForceConflicts, "force-conflicts", false, "take over fields other field managers own")
	f.StringSliceVar(&opts.Kinds, "kinds", nil, "restore only these kinds (Kind or Kind.group); repeatable or comma-separated")
	f.IntVar(&opts.Concurrency, "concurrency", 16, "objects applied at once within a phase")
	_ = cmd.MarkFlagDirname("from")
	_ = cmd.MarkFlagFilename("identity")
	return cmd
}

func restoreRun(ctx context.Context, opts *RestoreOptions) error {
	if opts.Output != "table" && opts.Output != "json" {
		return usagef("-o %s: restore prints table or json", opts.Output)
	}
	if opts.Concurrency < 1 {
		return usagef("--concurrency must be at least 1")
	}
	if opts.Cluster.AllNamespaces {
		return usagef("-A does not apply to restore: without -n every namespace in the tree is restored")
	}
	namespaces := splitList(opts.Cluster.Namespace)
	objects, partial, err := readTree(ctx, opts.Globals, opts.From, opts.Identity)
	if err != nil {
		return err
	}
	// The context namespace is only a default for objects that name none.
	flags := opts.Cluster
	flags.Namespace = ""
	target, err := flags.Load()
	if err != nil {
		return err
	}
	applier, err := cluster.NewApplier(target)
	if err != nil {
		return err
	}
	bar := newProgress(opts.Streams.Err, opts.Streams.ErrTTY, "restoring")
	ro := restore.Options{
		DryRun:           opts.DryRun,
		ForceConflicts:   opts.ForceConflicts,
		Namespaces:       namespaces,
		Kinds:            opts.Kinds,
		Concurrency:      opts.Concurrency,
		DefaultNamespace: target.Namespace,
		Progress:         bar.Update,
	}
	if opts.Output == "table" {
		ro.OnUnserved = func(items []restore.Item) {
			if len(items) == 0 {
				return
			}
			bar.Done()
			fmt.Fprintf(opts.Streams.Out, "not served by %s (these will not be restored):\n", target.Host)
			for _, it := range items {
				fmt.Fprintf(opts.Streams.Out, "  %s%s: %s\n", it.Key, at(it.Origin), it.Detail)
			}
		}
	}
	res, runErr := restore.Run(ctx, applier, objects, ro)
	bar.Done()
	if res != nil {
		if err := writeRestore(opts.Streams.Out, opts.Output, target.Host, res); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
	}
	if runErr != nil {
		return runErr
	}
	if !res.Complete() || partial {
		return fmt.Errorf("restore incomplete: %s", restoreSummary(res))
	}
	return nil
}

// splitList splits a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readTree reads the objects to restore or compare: a shipshape backup
// (directory or .tar.gz) through the backup reader, decrypting its Secrets
// with the identity, or any other manifest tree. Unreadable documents and
// damaged backup files are reported on stderr and make the result partial;
// the rest is used, except objects whose own file or encrypted data is
// damaged.
func readTree(ctx context.Context, g *Globals, from, identity string) ([]snapshot.Object, bool, error) {
	if from == "" {
		return nil, false, usagef("--from is required")
	}
	if isBackup(from) {
		return readBackup(ctx, g, from, identity)
	}
	if identity != "" {
		return nil, false, usagef("--identity: %s is not a shipshape backup (no %s), so there is nothing to decrypt", from, backup.ManifestFile)
	}
	snap, err := manifest.Read(ctx, []string{from}, manifest.Options{})
	if err != nil {
		return nil, false, err
	}
	for _, inv := range snap.Invalid {
		fmt.Fprintf(g.Streams.Err, "warning: %s: %s (skipped)\n", inv.Origin, inv.Reason)
	}
	for _, o := range snap.Objects {
		if hasBackupAnnotation(o) {
			return nil, false, fmt.Errorf("%s: %w", from, backup.ErrIncomplete)
		}
	}
	return snap.Objects, len(snap.Invalid) > 0, nil
}

// isBackup reports whether from is a backup archive or a directory with a
// backup manifest.
func isBackup(from string) bool {
	if strings.HasSuffix(from, ".tar.gz") || strings.HasSuffix(from, ".tgz") {
		return true
	}
	_, err := os.Stat(filepath.Join(from, backup.ManifestFile))
	return err == nil
}

func readBackup(ctx context.Context, g *Globals, from, identity string) ([]snapshot.Object, bool, error) {
	var bo backup.Options
	if identity != "" {
		ids, err := backup.ParseIdentities(identity)
		if err != nil {
			return nil, false, err
		}
		bo.Identities = ids
	}
	tree, err := backup.Load(ctx, from, bo)
	if err != nil {
		return nil, false, err
	}
	if len(tree.Undecrypted) > 0 {
		return nil, false, usagef("%s holds %d encrypted file(s) (Secrets, Helm values): give --identity to decrypt them", from, len(tree.Undecrypted))
	}
	for _, p := range tree.Problems {
		fmt.Fprintf(g.Streams.Err, "warning: %s: %s\n", filepath.Join(from, p.Path), p.Reason)
	}
	objects := make([]snapshot.Object, 0, len(tree.Items))
	for _, it := range tree.Items {
		if tree.Damaged(it) {
			fmt.Fprintf(g.Streams.Err, "warning: %s: left out (its file or its encrypted data is damaged)\n", filepath.Join(from, it.Path))
			continue
		}
		objects = append(objects, snapshot.Object{Unstructured: it.Object, Origin: snapshot.Origin{Path: filepath.Join(from, it.Path), Item: -1}})
	}
	if tree.Partial {
		fmt.Fprintf(g.Streams.Err, "warning: %s is partial: part of the cluster was not backed up or files are damaged\n", from)
	}
	return objects, tree.Partial, nil
}

func hasBackupAnnotation(o snapshot.Object) bool {
	for k := range o.GetAnnotations() {
		if strings.HasPrefix(k, drift.BackupAnnotationPrefix) {
			return true
		}
	}
	return false
}

func at(o snapshot.Origin) string {
	if o.IsZero() {
		return ""
	}
	return " (" + o.String() + ")"
}

func restoreSummary(res *restore.Result) string {
	var parts []string
	for _, a := range []restore.Action{restore.Create, restore.Update, restore.Unchanged, restore.Conflict, restore.Failed, restore.Unserved, restore.NotDone} {
		if n := res.Count(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	if len(parts) == 0 {
		return "nothing to restore"
	}
	return strings.Join(parts, ", ")
}

// restoreJSON is the -o json form of a restore result.
type restoreJSON struct {
	Target   string            `json:"target"`
	DryRun   bool              `json:"dryRun"`
	Complete bool              `json:"complete"`
	Seconds  float64           `json:"seconds"`
	Objects  []restoreItemJSON `json:"objects"`
}

type restoreItemJSON struct {
	Phase     string         `json:"phase"`
	Action    string         `json:"action"`
	Group     string         `json:"group,omitempty"`
	Kind      string         `json:"kind"`
	Namespace string         `json:"namespace,omitempty"`
	Name      string         `json:"name"`
	Location  string         `json:"location,omitempty"`
	Detail    string         `json:"detail,omitempty"`
	Changes   []drift.Change `json:"changes,omitempty"`
}

func writeRestore(w io.Writer, format, host string, res *restore.Result) error {
	if format == "json" {
		out := restoreJSON{Target: host, DryRun: res.DryRun, Complete: res.Complete(), Seconds: res.Duration.Seconds(), Objects: []restoreItemJSON{}}
		for _, it := range res.Items {
			loc := ""
			if !it.Origin.IsZero() {
				loc = it.Origin.String()
			}
			out.Objects = append(out.Objects, restoreItemJSON{
				Phase: it.Phase.String(), Action: string(it.Action), Group: it.Key.Group, Kind: it.Key.Kind,
				Namespace: it.Key.Namespace, Name: it.Key.Name, Location: loc, Detail: it.Detail, Changes: it.Changes,
			})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	title := "restore into " + host
	if res.DryRun {
		title += " (dry run: nothing was stored)"
	}
	if _, err := fmt.Fprintln(w, title); err != nil {
		return err
	}
	phase := restore.Phase(-1)
	for _, it := range res.Items {
		if it.Action == restore.Unserved {
			continue // listed before anything was applied
		}
		if it.Phase != phase {
			phase = it.Phase
			fmt.Fprintf(w, "%s:\n", phase)
		}
		line := fmt.Sprintf("  %-10s %s%s", it.Action, it.Key, at(it.Origin))
		if it.Detail != "" {
			line += ": " + it.Detail
		}
		fmt.Fprintln(w, line)
		for _, c := range it.Changes {
			fmt.Fprintf(w, "      %s\n", c)
		}
	}
	verb := "took"
	if res.DryRun {
		verb = "dry run took"
	}
	_, err := fmt.Fprintf(w, "%s (%s %s)\n", restoreSummary(res), verb, res.Duration.Round(1e6))
	return err
}
