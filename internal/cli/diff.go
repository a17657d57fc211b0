package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/drift"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// DiffOptions are the inputs of `shipshape diff`.
type DiffOptions struct {
	*Globals
	// From is the backup directory, manifest tree or git checkout.
	From string
	// Identity is the age identity file that decrypts a backup's Secrets.
	Identity string
}

// NewCmdDiff builds `shipshape diff`. runF replaces diffRun in tests of flag parsing.
func NewCmdDiff(g *Globals, runF func(context.Context, *DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "diff --from DIR",
		Short: "Show drift between a backup or manifest tree and the live cluster",
		Long: `Diff compares a backup, or any manifest tree or git checkout, with the cluster of the
current context and lists the objects only in the tree, the objects only live, and the
objects that differ, field by field.

What the server fills in is not drift: status, managedFields, resourceVersion, uid,
timestamps, allocated cluster IPs, service account tokens, and defaulted fields the
tree does not set. Only-live objects are looked for among the kinds the tree holds, in
the namespaces it uses; objects the control plane or a controller made are left out.
Secret values are never shown: a changed Secret names the changed keys.

-n compares only the named namespaces (comma-separated).

Exit codes: 0 no drift, 1 error, 3 drift found.`,
		Example: `  # What changed in the cluster since the last backup?
  shipshape diff --from backup/

  # Compare a git checkout of manifests with one namespace
  shipshape diff --from deploy/ -n shop`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return diffRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.From, "from", "", "the backup directory, manifest tree or git checkout to compare (required)")
	cmd.Flags().StringVar(&opts.Identity, "identity", "", "age identity file that decrypts the backup's Secrets")
	_ = cmd.MarkFlagDirname("from")
	return cmd
}

func diffRun(ctx context.Context, opts *DiffOptions) error {
	if opts.Output != "table" && opts.Output != "json" {
		return usagef("-o %s: diff prints table or json", opts.Output)
	}
	if opts.Cluster.AllNamespaces {
		return usagef("-A does not apply to diff: without -n every namespace in the tree is compared")
	}
	namespaces := splitList(opts.Cluster.Namespace)
	objects, partial, err := readTree(ctx, opts.Globals, opts.From, opts.Identity)
	if err != nil {
		return err
	}
	flags := opts.Cluster
	flags.Namespace, flags.AllNamespaces = "", true
	target, err := flags.Load()
	if err != nil {
		return err
	}
	if len(namespaces) == 0 {
		if t, err := opts.Cluster.Load(); err == nil {
			target.Namespace = t.Namespace // the default for objects that name none
		}
	}
	kinds := map[schema.GroupKind]bool{}
	var gks []schema.GroupKind
	for _, o := range objects {
		gk := o.GroupVersionKind().GroupKind()
		if !kinds[gk] {
			kinds[gk] = true
			gks = append(gks, gk)
		}
	}
	bar := newProgress(opts.Streams.Err, opts.Streams.ErrTTY, "reading cluster")
	live, err := cluster.Snapshot(ctx, target, cluster.SnapshotOptions{Kinds: gks, Progress: bar.Update})
	bar.Done()
	if err != nil {
		return err
	}
	for _, gap := range live.Gaps {
		fmt.Fprintf(opts.Streams.Err, "warning: %s not read: %s\n", gap.Source, gap.Reason)
	}
	defaultNS := "default"
	if len(namespaces) == 1 {
		defaultNS = namespaces[0]
	} else if target.Namespace != "" {
		defaultNS = target.Namespace
	}
	rep := drift.Diff(
		filterNamespaces(objects, namespaces, live.Resources),
		filterNamespaces(live.Objects, namespaces, live.Resources),
		drift.Options{Namespaced: namespacedIn(live.Resources), DefaultNamespace: defaultNS, AllLive: len(namespaces) > 0},
	)
	if err := writeDiff(opts.Streams.Out, opts.Output, rep); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	if partial || live.Partial() {
		return fmt.Errorf("diff incomplete: part of the tree or of the cluster could not be read")
	}
	if !rep.Clean() {
		return &thresholdError{count: len(rep.OnlyTree) + len(rep.OnlyLive) + len(rep.Changed)}
	}
	return nil
}

// namespacedIn answers from discovery whether a kind is namespaced.
func namespacedIn(resources []snapshot.Resource) func(schema.GroupKind) (bool, bool) {
	scope := map[schema.GroupKind]bool{}
	for _, r := range resources {
		scope[schema.GroupKind{Group: r.Group, Kind: r.Kind}] = r.Namespaced
	}
	return func(gk schema.GroupKind) (bool, bool) {
		n, ok := scope[gk]
		return n, ok
	}
}

// filterNamespaces keeps, when namespaces are named, the namespaced objects
// in them and their Namespace objects.
func filterNamespaces(objs []snapshot.Object, namespaces []string, resources []snapshot.Resource) []snapshot.Object {
	if len(namespaces) == 0 {
		return objs
	}
	set := map[string]bool{}
	for _, n := range namespaces {
		set[n] = true
	}
	namespaced := namespacedIn(resources)
	var out []snapshot.Object
	for _, o := range objs {
		gk := o.GroupVersionKind().GroupKind()
		if gk == (schema.GroupKind{Kind: "Namespace"}) {
			if set[o.GetName()] {
				out = append(out, o)
			}
			continue
		}
		nsd, known := namespaced(gk)
		if !known {
			nsd = o.GetNamespace() != ""
		}
		if nsd && (set[o.GetNamespace()] || (o.GetNamespace() == "" && len(namespaces) == 1)) {
			out = append(out, o)
		}
	}
	return out
}

type diffJSON struct {
	Clean    bool            `json:"clean"`
	OnlyTree []diffEntryJSON `json:"onlyInTree"`
	OnlyLive []diffEntryJSON `json:"onlyLive"`
	Changed  []diffEntryJSON `json:"changed"`
	Same     int             `json:"unchanged"`
}

type diffEntryJSON struct {
	Group     string         `json:"group,omitempty"`
	Kind      string         `json:"kind"`
	Namespace string         `json:"namespace,omitempty"`
	Name      string         `json:"name"`
	Location  string         `json:"location,omitempty"`
	Changes   []drift.Change `json:"changes,omitempty"`
}

func diffEntries(es []drift.Entry) []diffEntryJSON {
	out := []diffEntryJSON{}
	for _, e := range es {
		loc := ""
		if !e.Origin.IsZero() {
			loc = e.Origin.String()
		}
		out = append(out, diffEntryJSON{Group: e.Key.Group, Kind: e.Key.Kind, Namespace: e.Key.Namespace, Name: e.Key.Name, Location: loc, Changes: e.Changes})
	}
	return out
}

func writeDiff(w io.Writer, format string, rep *drift.Report) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(diffJSON{Clean: rep.Clean(), OnlyTree: diffEntries(rep.OnlyTree), OnlyLive: diffEntries(rep.OnlyLive), Changed: diffEntries(rep.Changed), Same: rep.Same})
	}
	for _, d := range rep.Duplicates {
		fmt.Fprintf(w, "warning: %s%s is given more than once; the first copy is compared\n", d.Key, at(d.Origin))
	}
	for _, sec := range []struct {
		title   string
		entries []drift.Entry
	}{{"only in the tree", rep.OnlyTree}, {"only live", rep.OnlyLive}, {"changed", rep.Changed}} {
		if len(sec.entries) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s:\n", sec.title)
		for _, e := range sec.entries {
			fmt.Fprintf(w, "  %s%s\n", e.Key, at(e.Origin))
			for _, c := range e.Changes {
				fmt.Fprintf(w, "      %s\n", c)
			}
		}
	}
	_, err := fmt.Fprintln(w, rep.Summary())
	return err
}
