// Package helmchart renders Helm charts (a chart directory or a packaged
// .tgz) with the Helm SDK, as `helm template` would, and reads the result
// into a snapshot whose objects point at the template that produced them.
//
// Rendering happens offline: no cluster is contacted, lookup functions
// return nothing, and charts whose dependencies are missing from charts/ are
// reported as errors rather than downloaded.
package helmchart

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	v2util "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/strvals"

	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Options say how to render a chart.
type Options struct {
	// ValuesFiles are merged in order, as `helm template -f`.
	ValuesFiles []string
	// Set and SetString are `--set` and `--set-string` expressions.
	Set       []string
	SetString []string
	// ReleaseName and Namespace are .Release.Name and .Release.Namespace
	// (defaults "release-name" and "default").
	ReleaseName string
	Namespace   string
	// KubeVersion is .Capabilities.KubeVersion, e.g. "1.37.0" (default:
	// Helm's default). It is also the version the chart's kubeVersion
	// constraint is checked against by callers; Render does not enforce it.
	KubeVersion string
	// APIVersions are added to .Capabilities.APIVersions.
	APIVersions []string
	// Manifest configures how rendered documents are decoded.
	Manifest manifest.Options
}

// Chart is the metadata of a rendered chart.
type Chart struct {
	// Path is the chart directory or archive as given.
	Path        string
	Name        string
	Version     string
	AppVersion  string
	KubeVersion string
	Deprecated  bool
}

// Result is a rendered chart.
type Result struct {
	Chart Chart
	// Snapshot holds the rendered objects. Each object's origin path is the
	// template it came from, joined to the chart path
	// (e.g. "charts/web/templates/ingress.yaml"); its line is the line
	// within that template's rendered output.
	Snapshot *snapshot.Snapshot
}

// Render loads and renders the chart at path.
func Render(ctx context.Context, path string, opts Options) (*Result, error) {
	ch, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", path, err)
	}
	if ch.Metadata == nil {
		return nil, fmt.Errorf("chart %s: missing Chart.yaml metadata", path)
	}
	if err := checkDependencies(ch); err != nil {
		return nil, fmt.Errorf("chart %s: %w", path, err)
	}
	vals, err := userValues(opts)
	if err != nil {
		return nil, err
	}
	if err := v2util.ProcessDependencies(ch, vals); err != nil {
		return nil, fmt.Errorf("chart %s: dependencies: %w", path, err)
	}
	caps := common.DefaultCapabilities.Copy()
	if opts.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(opts.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", opts.KubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	if len(opts.APIVersions) > 0 {
		caps.APIVersions = append(slices.Clone(caps.APIVersions), opts.APIVersions...)
	}
	rel := common.ReleaseOptions{Name: orDefault(opts.ReleaseName, "release-name"), Namespace: orDefault(opts.Namespace, "default"), Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValues(ch, vals, rel, caps)
	if err != nil {
		return nil, fmt.Errorf("chart %s: values: %w", path, err)
	}
	out, err := engine.Render(ch, top)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", path, err)
	}

	s := &snapshot.Snapshot{Source: snapshot.SourceFiles}
	dec := manifest.NewDecoder(opts.Manifest)
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	slices.Sort(names)
	prefix := ch.Metadata.Name + "/"
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") || strings.EqualFold(base, "NOTES.txt") || strings.TrimSpace(out[name]) == "" {
			continue
		}
		origin := filepath.ToSlash(filepath.Join(path, strings.TrimPrefix(name, prefix)))
		objs, invalid, err := dec.Decode(ctx, bytes.NewReader([]byte(out[name])), origin)
		if err != nil {
			return nil, err
		}
		s.Objects = append(s.Objects, objs...)
		s.Invalid = append(s.Invalid, invalid...)
	}
	s.Sort()
	return &Result{
		Chart: Chart{
			Path: path, Name: ch.Metadata.Name, Version: ch.Metadata.Version, AppVersion: ch.Metadata.AppVersion,
			KubeVersion: ch.Metadata.KubeVersion, Deprecated: ch.Metadata.Deprecated,
		},
		Snapshot: s,
	}, nil
}

// IsChart reports whether path looks like a Helm chart: a directory with a
// Chart.yaml, or a .tgz archive.
func IsChart(path string) bool {
	if strings.HasSuffix(path, ".tgz") || strings.HasSuffix(path, ".tar.gz") {
		return true
	}
	st, err := os.Stat(filepath.Join(path, "Chart.yaml"))
	return err == nil && !st.IsDir()
}

// checkDependencies reports dependencies declared in Chart.yaml that are
// not vendored in charts/: rendering offline cannot fetch them.
func checkDependencies(ch *chart.Chart) error {
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	var missing []string
	for _, d := range ch.Metadata.Dependencies {
		if !have[d.Name] {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("dependencies not in charts/: %s (run `helm dependency build` first)", strings.Join(missing, ", "))
	}
	return nil
}

func userValues(opts Options) (map[string]any, error) {
	base := map[string]any{}
	for _, f := range opts.ValuesFiles {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("values file: %w", err)
		}
		m, err := loader.LoadValues(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("values file %s: %w", f, err)
		}
		base = loader.MergeMaps(base, m)
	}
	for _, v := range opts.Set {
		if err := strvals.ParseInto(v, base); err != nil {
			return nil, fmt.Errorf("--set %q: %w", v, err)
		}
	}
	for _, v := range opts.SetString {
		if err := strvals.ParseIntoString(v, base); err != nil {
			return nil, fmt.Errorf("--set-string %q: %w", v, err)
		}
	}
	return base, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
