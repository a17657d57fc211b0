package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/upgrade"
	"github.com/shipshape-dev/shipshape/internal/yamledit"
)

// UpgradeFixOptions are the inputs of `shipshape upgrade fix`.
type UpgradeFixOptions struct {
	*Globals
	// Paths are files or directories (their .yaml and .yml files, recursively).
	Paths []string
	// DryRun prints a unified diff instead of writing.
	DryRun bool
	// TargetVersion is --target-version; empty means the newest known.
	TargetVersion string
}

func newCmdUpgradeFix(g *Globals) *cobra.Command {
	opts := &UpgradeFixOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "fix [--dry-run] FILE|DIR...",
		Short: "Rewrite manifests to the replacement APIs, keeping comments and formatting",
		Long: `Fix rewrites every object that uses an API deprecated or removed at the target version to its
replacement where the conversion is mechanical, moving the fields that changed (Ingress backends and
pathType, apps/v1 selectors, autoscaling/v2 metrics, and the others 'shipshape upgrade' names). It edits
the YAML in place: comments, key order, quoting and indentation stay; only the converted lines change.
Files are replaced atomically.

Objects it cannot convert mechanically (PodSecurityPolicy, CustomResourceDefinition v1beta1, webhooks
without sideEffects, ...) are left untouched and listed with what to do instead; then the exit code is 3.
With --dry-run it writes nothing and prints a unified diff on standard output (the list goes to
standard error).`,
		Example: `  shipshape upgrade fix --dry-run deploy/
  shipshape upgrade fix --target-version 1.25 deploy/ingress.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%q needs at least one file or directory", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			return upgradeFixRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print a unified diff and write nothing")
	cmd.Flags().StringVar(&opts.TargetVersion, "target-version", "", "convert APIs deprecated or removed at this version, e.g. 1.37 (default: the newest known)")
	return cmd
}

func upgradeFixRun(ctx context.Context, opts *UpgradeFixOptions) error {
	target, err := fixTarget(opts.TargetVersion)
	if err != nil {
		return err
	}
	files, err := yamlFiles(opts.Paths)
	if err != nil {
		return err
	}
	notes := opts.Streams.Out
	if opts.DryRun {
		notes = opts.Streams.Err
	}
	manual, failed := 0, 0
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		out, res, err := upgrade.Fix(path, src, target)
		if err != nil {
			// One bad file never stops the others.
			fmt.Fprintf(notes, "error %s\n", err)
			failed++
			continue
		}
		for _, n := range res.Converted {
			msg := fmt.Sprintf("converted %s:%d %s: %s -> %s", path, n.Line, n.Object, n.From, n.To)
			if n.Message != "" {
				msg += " (" + n.Message + ")"
			}
			fmt.Fprintln(notes, msg)
		}
		for _, n := range res.Manual {
			fmt.Fprintf(notes, "manual    %s:%d %s (%s): %s\n", path, n.Line, n.Object, n.From, n.Message)
			manual++
		}
		if string(out) == string(src) {
			continue
		}
		if opts.DryRun {
			fmt.Fprint(opts.Streams.Out, yamledit.Diff(path, src, out))
			continue
		}
		if err := yamledit.WriteFile(path, out); err != nil {
			fmt.Fprintf(notes, "error write %s: %v\n", path, err)
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d file(s) could not be fixed", failed)
	}
	if manual > 0 {
		return &thresholdError{count: manual, threshold: finding.Medium}
	}
	return nil
}

func fixTarget(s string) (upgrade.Version, error) {
	if s != "" {
		v, err := upgrade.ParseVersion(s)
		if err != nil {
			return v, usagef("--target-version: %v", err)
		}
		return v, nil
	}
	t, err := upgrade.Data()
	if err != nil {
		return upgrade.Version{}, err
	}
	return t.Newest(), nil
}

// yamlFiles expands directories to their YAML files, sorted.
func yamlFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", p, err)
		}
		slices.Sort(found)
		out = append(out, found...)
	}
	return out, nil
}
