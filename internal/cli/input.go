package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/helmchart"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/render"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// inputs say what scan, audit and upgrade read: manifest files (-f), Helm
// charts (--chart, with --values and --set), or, with neither, the live
// cluster of the Globals' kubeconfig.
type inputs struct {
	Filenames   []string
	Charts      []string
	ValuesFiles []string
	Set         []string
	// Limits are the parsed --max-file-size and --max-document-size.
	Limits manifest.Options
	// KubeVersion is the charts' .Capabilities.KubeVersion ("1.37.0"); empty
	// keeps Helm's default.
	KubeVersion string
}

// files reports whether the inputs are files or charts rather than a cluster.
func (in inputs) files() bool { return len(in.Filenames) > 0 || len(in.Charts) > 0 }

// read reads the inputs into one snapshot, and returns the metadata of each
// rendered chart.
func (in inputs) read(ctx context.Context, g *Globals) (*snapshot.Snapshot, []helmchart.Chart, error) {
	if len(in.Charts) == 0 && (len(in.ValuesFiles) > 0 || len(in.Set) > 0) {
		return nil, nil, usagef("--values and --set render a --chart; no --chart was given")
	}
	if !in.files() {
		snap, err := readInput(ctx, g, nil, in.Limits)
		return snap, nil, err
	}
	snap := &snapshot.Snapshot{Source: snapshot.SourceFiles}
	if len(in.Filenames) > 0 {
		var err error
		if snap, err = readInput(ctx, g, in.Filenames, in.Limits); err != nil {
			return nil, nil, err
		}
	} else if g.Cluster.Namespace != "" || g.Cluster.AllNamespaces {
		return nil, nil, usagef("-n and -A select namespaces of a live cluster; they do not apply to --chart")
	}
	var charts []helmchart.Chart
	for _, path := range in.Charts {
		res, err := helmchart.Render(ctx, path, helmchart.Options{ValuesFiles: in.ValuesFiles, Set: in.Set, KubeVersion: in.KubeVersion, Manifest: in.Limits})
		if err != nil {
			return nil, nil, fmt.Errorf("render chart: %w", err)
		}
		charts = append(charts, res.Chart)
		snap.Objects = append(snap.Objects, res.Snapshot.Objects...)
		snap.Invalid = append(snap.Invalid, res.Snapshot.Invalid...)
	}
	snap.Sort()
	return snap, charts, nil
}

// writeReport renders the report and turns findings at or above the
// --fail-on threshold into the findings exit code.
func writeReport(out io.Writer, g *Globals, title string, checks []finding.Check, report finding.Report) error {
	format, err := g.format()
	if err != nil {
		return err
	}
	threshold, gate, err := g.threshold()
	if err != nil {
		return err
	}
	ropts := renderOptions(g, title, checks)
	ropts.FailAt, ropts.NeverFail = threshold, !gate
	if err := render.Write(out, format, report, ropts); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if n := report.AtOrAbove(threshold); gate && n > 0 {
		return &thresholdError{count: n, threshold: threshold}
	}
	return nil
}

// addChartFlags adds --chart, --values and --set.
func addChartFlags(cmd *cobra.Command, charts, values, set *[]string) {
	f := cmd.Flags()
	f.StringArrayVar(charts, "chart", nil, "a Helm chart directory or .tgz to render offline and read; repeatable")
	f.StringArrayVar(values, "values", nil, "a values file for --chart, as helm -f; repeatable")
	f.StringArrayVar(set, "set", nil, "a value for --chart, as helm --set key=value; repeatable")
	_ = cmd.MarkFlagFilename("values", "yaml", "yml")
}

// checkOutputFlags validates -o and --fail-on before any input is read.
func (g *Globals) checkOutputFlags() error {
	if _, err := g.format(); err != nil {
		return err
	}
	_, _, err := g.threshold()
	return err
}
