// Package helmseed installs Helm charts into the sandbox with the Helm SDK, so
// that the demo estate holds real Helm release records (the same Secrets of
// type helm.sh/release.v1 that `helm install` writes).
//
// It is only for seeding the sandbox; shipshape itself reads releases and never
// installs them.
package helmseed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/yaml"
)

// Release is one chart to install: the chart directory, and beside it an
// optional release file "<chart>.release.yaml" naming the release, its
// namespace and its user-supplied values.
type Release struct {
	Name      string         `json:"name"`
	Namespace string         `json:"namespace"`
	Values    map[string]any `json:"values"`
	ChartDir  string         `json:"-"`
}

// Discover finds the charts under dir: every subdirectory with a Chart.yaml.
// A release file dir/<chart>.release.yaml sets the release's name, namespace
// and values; without one the release is named after the chart and installed
// into "default".
func Discover(dir string) ([]Release, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read charts in %s: %w", dir, err)
	}
	var out []Release
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		chartDir := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(chartDir, "Chart.yaml")); err != nil {
			continue
		}
		r := Release{Name: e.Name(), Namespace: "default", ChartDir: chartDir}
		if b, err := os.ReadFile(filepath.Join(dir, e.Name()+".release.yaml")); err == nil {
			if err := yaml.UnmarshalStrict(b, &r); err != nil {
				return nil, fmt.Errorf("read release file of chart %s: %w", e.Name(), err)
			}
		} else if !os.IsNotExist(err) {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Install installs the release with the Helm SDK through the given kubeconfig,
// creating its namespace when needed. An existing release is left alone.
func Install(ctx context.Context, kubeconfig string, r Release) error {
	ch, err := loader.LoadDir(r.ChartDir)
	if err != nil {
		return fmt.Errorf("load chart %s: %w", r.ChartDir, err)
	}
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kubeconfig
	flags.Namespace = &r.Namespace
	cfg := action.NewConfiguration()
	if err := cfg.Init(flags, r.Namespace, "secret"); err != nil {
		return fmt.Errorf("helm configuration: %w", err)
	}
	if _, err := action.NewGet(cfg).Run(r.Name); err == nil {
		return nil
	}
	install := action.NewInstall(cfg)
	install.ReleaseName = r.Name
	install.Namespace = r.Namespace
	install.CreateNamespace = true
	install.WaitStrategy = kube.HookOnlyStrategy
	if _, err := install.RunWithContext(ctx, ch, r.Values); err != nil {
		return fmt.Errorf("helm install %s into %s: %w", r.Name, r.Namespace, err)
	}
	return nil
}
