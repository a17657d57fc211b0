package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/audit/rbac"
	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/render"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// WhoCanOptions are the inputs of `shipshape audit who-can`.
type WhoCanOptions struct {
	*Globals
	Verb string
	// Resource is RESOURCE[.GROUP][/SUBRESOURCE] or a non-resource URL.
	Resource string
	// Name is the optional object name (resourceNames).
	Name string
	// Filenames are -f: read RBAC objects from manifests instead of the cluster.
	Filenames []string
}

// whoCanAnswer is the machine-readable answer.
type whoCanAnswer struct {
	Request  string            `json:"request"`
	Grants   []rbac.Grant      `json:"grants"`
	Partial  bool              `json:"partial"`
	Warnings []finding.Warning `json:"warnings,omitempty"`
}

// NewCmdAuditWhoCan builds `shipshape audit who-can`, attached by the audit command.
func NewCmdAuditWhoCan(g *Globals) *cobra.Command { return newCmdAuditWhoCan(g, nil) }

func newCmdAuditWhoCan(g *Globals, runF func(context.Context, *WhoCanOptions) error) *cobra.Command {
	opts := &WhoCanOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "who-can VERB RESOURCE[.GROUP][/SUBRESOURCE] [NAME] [-n NS | -A]",
		Short: "List the users, groups and service accounts that RBAC allows a request",
		Long: `Who-can answers "who may VERB RESOURCE in namespace NS" from the cluster's Roles,
ClusterRoles, RoleBindings and ClusterRoleBindings, as the API server's RBAC authorizer would:
wildcards, subresources ("pods/exec", "*/scale"), resourceNames (give NAME), groups such as
system:serviceaccounts:NS, and aggregated ClusterRoles resolved from the roles they select.

-n asks about one namespace (default: the context's); -A asks about all namespaces at once,
which only ClusterRoleBindings grant. Cluster-scoped resources are asked cluster-wide (discovery
says which they are; with -f, ask about them with -A). A RESOURCE starting with "/" is a
non-resource URL such as /metrics. The group system:masters is always listed: the API server
allows it before RBAC is asked. Other authorizers (Node, webhook) are not consulted. With -f
the RBAC objects are read from manifests instead of the cluster.`,
		Example: `  # Who can read Secrets in namespace shop?
  shipshape audit who-can get secrets -n shop

  # Who can exec into pods anywhere?
  shipshape audit who-can create pods/exec -A

  # Who can scale one Deployment?
  shipshape audit who-can update deployments.apps/scale web -n shop`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || len(args) > 3 {
				return usagef("%q wants VERB RESOURCE [NAME], got %q", cmd.CommandPath(), args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Verb, opts.Resource = args[0], args[1]
			if len(args) == 3 {
				opts.Name = args[2]
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return whoCanRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Filenames, "filename", "f", nil, "read RBAC objects from this file or directory (- for stdin) instead of the cluster; repeatable")
	return cmd
}

// parseRequest reads RESOURCE[.GROUP][/SUBRESOURCE] or a non-resource URL.
func parseRequest(verb, resource, name string) (rbac.Attributes, error) {
	a := rbac.Attributes{Verb: strings.ToLower(verb), Name: name}
	if a.Verb == "" {
		return a, usagef("VERB is empty")
	}
	if strings.HasPrefix(resource, "/") {
		if name != "" {
			return a, usagef("a non-resource URL takes no NAME")
		}
		a.Path = resource
		return a, nil
	}
	r, sub, _ := strings.Cut(resource, "/")
	r, group, _ := strings.Cut(r, ".")
	if r == "" || strings.Contains(sub, "/") {
		return a, usagef("RESOURCE %q: want RESOURCE[.GROUP][/SUBRESOURCE], e.g. secrets, deployments.apps/scale", resource)
	}
	a.Resource, a.Group, a.Subresource = strings.ToLower(r), group, sub
	return a, nil
}

var rbacResources = []schema.GroupResource{
	{Group: "rbac.authorization.k8s.io", Resource: "roles"},
	{Group: "rbac.authorization.k8s.io", Resource: "rolebindings"},
	{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
}

func whoCanRun(ctx context.Context, opts *WhoCanOptions) error {
	format, err := opts.format()
	if err != nil {
		return err
	}
	if format != render.Table && format != render.JSON && format != render.YAML {
		return usagef("-o %s: who-can prints table, json or yaml", format)
	}
	a, err := parseRequest(opts.Verb, opts.Resource, opts.Name)
	if err != nil {
		return err
	}
	if opts.Cluster.Namespace != "" && opts.Cluster.AllNamespaces {
		return usagef("-n and -A cannot be used together")
	}
	var snap *snapshot.Snapshot
	if len(opts.Filenames) > 0 {
		if snap, err = manifest.Read(ctx, opts.Filenames, manifest.Options{Stdin: opts.Streams.In}); err != nil {
			return err
		}
		if !opts.Cluster.AllNamespaces && a.Path == "" {
			a.Namespace = opts.Cluster.Namespace
			if a.Namespace == "" {
				a.Namespace = "default"
			}
		}
	} else {
		target, err := opts.Cluster.Load()
		if err != nil {
			return err
		}
		if snap, err = cluster.Snapshot(ctx, target, cluster.SnapshotOptions{Resources: rbacResources}); err != nil {
			return err
		}
		if a.Path == "" && !target.AllNamespaces && namespaced(snap.Resources, a) {
			a.Namespace = target.Namespace
		}
	}
	m := rbac.NewModel(snap)
	ans := whoCanAnswer{Request: a.String(), Grants: m.WhoCan(a), Partial: snap.Partial()}
	for _, gap := range snap.Gaps {
		ans.Warnings = append(ans.Warnings, finding.Warning{Source: gap.Source, Message: gap.Reason})
	}
	for _, inv := range snap.Invalid {
		ans.Warnings = append(ans.Warnings, finding.Warning{Source: inv.Origin.String(), Message: inv.Reason})
	}
	for _, p := range m.Problems {
		ans.Partial = true
		ans.Warnings = append(ans.Warnings, finding.Warning{Source: p.Object.Origin.String(), Message: p.Err.Error()})
	}
	return writeWhoCan(opts.Streams, format, ans)
}

// namespaced reports whether discovery lists the request's resource as
// namespaced; unknown resources count as namespaced.
func namespaced(rs []snapshot.Resource, a rbac.Attributes) bool {
	for _, r := range rs {
		if r.Resource == a.Resource && r.Group == a.Group {
			return r.Namespaced
		}
	}
	return true
}

func writeWhoCan(s Streams, format render.Format, ans whoCanAnswer) error {
	switch format {
	case render.JSON, render.YAML:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ans); err != nil {
			return err
		}
		b := buf.Bytes()
		if format == render.YAML {
			var err error
			if b, err = yaml.JSONToYAML(b); err != nil {
				return err
			}
		}
		_, err := s.Out.Write(b)
		return err
	}
	tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Who can %s:\n\n", ans.Request)
	fmt.Fprintln(tw, "KIND\tNAMESPACE\tNAME\tVIA")
	for _, g := range ans.Grants {
		ns := g.Namespace
		if ns == "" {
			ns = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Kind, ns, g.Name, strings.Join(g.Via, "; "))
	}
	if ans.Partial {
		fmt.Fprintln(tw, "\nPARTIAL: some RBAC objects could not be read; the answer may miss subjects:")
		for _, w := range ans.Warnings {
			fmt.Fprintf(tw, "  %s: %s\n", w.Source, w.Message)
		}
	}
	return tw.Flush()
}
