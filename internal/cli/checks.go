package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// ChecksOptions are the inputs of `shipshape checks`.
type ChecksOptions struct {
	*Globals
	// IDs limits the listing (by ID or group); with exactly one, the doc is printed in full.
	IDs []string
}

// NewCmdChecks builds `shipshape checks`.
func NewCmdChecks(g *Globals, runF func(context.Context, *ChecksOptions) error) *cobra.Command {
	opts := &ChecksOptions{Globals: g}
	return &cobra.Command{
		Use:   "checks [ID|GROUP]...",
		Short: "List every check with its documentation",
		Example: `  shipshape checks
  shipshape checks inventory/objects
  shipshape checks -o json`,
		ValidArgsFunction: completeCheckIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IDs = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return checksRun(opts)
		},
	}
}

// checkDoc is how a check is listed in json and yaml.
type checkDoc struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Doc      string `json:"doc"`
	DocsURL  string `json:"docsURL,omitempty"`
}

func checksRun(opts *ChecksOptions) error {
	reg, err := registry()
	if err != nil {
		return err
	}
	checks, err := selectChecks(reg, opts.IDs)
	if err != nil {
		return err
	}
	docs := make([]checkDoc, 0, len(checks))
	for _, c := range checks {
		docs = append(docs, checkDoc{ID: c.ID, Title: c.Title, Severity: c.Severity.String(), Doc: c.Doc, DocsURL: c.DocsURL})
	}
	out := opts.Streams.Out
	switch opts.Output {
	case "json":
		b, err := json.MarshalIndent(map[string]any{"checks": docs}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(map[string]any{"checks": docs})
		if err != nil {
			return err
		}
		_, err = out.Write(b)
		return err
	case "markdown":
		return writeChecksMarkdown(out, docs)
	case "table":
	default:
		return usagef("-o %s: shipshape checks prints table, json, yaml or markdown", opts.Output)
	}
	if len(docs) == 1 {
		d := docs[0]
		_, err := fmt.Fprintf(out, "%s  (%s)\n%s\n\n%s\n", d.ID, d.Severity, d.Title, d.Doc)
		if err == nil && d.DocsURL != "" {
			_, err = fmt.Fprintf(out, "\nMore: %s\n", d.DocsURL)
		}
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSEVERITY\tTITLE")
	for _, d := range docs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.ID, d.Severity, d.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, "\nRun 'shipshape checks ID' for a check's full documentation.")
	return err
}

func writeChecksMarkdown(w io.Writer, docs []checkDoc) error {
	var b strings.Builder
	b.WriteString("# shipshape checks\n")
	for _, d := range docs {
		fmt.Fprintf(&b, "\n## `%s`\n\n%s. Severity: **%s**.\n\n%s\n", d.ID, d.Title, d.Severity, strings.TrimSpace(d.Doc))
		if d.DocsURL != "" {
			fmt.Fprintf(&b, "\nMore: %s\n", d.DocsURL)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
