package upgrade

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/helmchart"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// format prints findings one per line for golden files.
func format(fs []finding.Finding) []byte {
	var b bytes.Buffer
	for _, f := range fs {
		fmt.Fprintf(&b, "%s %s %s: %s", f.Severity, f.Check, f.Where(), f.Message)
		if f.Remediation != "" {
			fmt.Fprintf(&b, " | fix: %s", f.Remediation)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func TestFiles(t *testing.T) {
	snap, err := manifest.Read(context.Background(), []string{"testdata/files"}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		target Version
	}{
		{"files-1.21", Version{21}},
		{"files-1.37", Version{37}},
		{"files-1.39", Version{39}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden.Check(t, tc.name, format(run(t, snap, Options{Target: tc.target})))
		})
	}
	// Without a target, files are judged against the newest known release.
	def := run(t, snap, Options{})
	if got, want := string(format(def)), string(format(run(t, snap, Options{Target: Version{37}}))); got != want {
		t.Errorf("default target for files differs from 1.37:\n%s\nwant\n%s", got, want)
	}
}

// liveObject builds a live object with managedFields entries (apiVersion per manager).
func liveObject(apiVersion, kind, ns, name string, managers map[string]string, lastApplied string) snapshot.Object {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	var mfs []metav1.ManagedFieldsEntry
	for m, av := range managers {
		mfs = append(mfs, metav1.ManagedFieldsEntry{Manager: m, Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: av})
	}
	u.SetManagedFields(mfs)
	if lastApplied != "" {
		u.SetAnnotations(map[string]string{lastAppliedKey: lastApplied})
	}
	return snapshot.Object{Unstructured: u}
}

func helmSecret(t *testing.T, ns, name string, rev int, status, kubeVersion, manifest string) snapshot.Object {
	t.Helper()
	rel := map[string]any{
		"name": name, "namespace": ns, "version": rev, "manifest": manifest,
		"info":  map[string]any{"status": status},
		"chart": map[string]any{"metadata": map[string]any{"name": "legacy", "version": "0.9.0", "kubeVersion": kubeVersion}},
	}
	js, err := json.Marshal(rel)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(js); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	payload := base64.StdEncoding.EncodeToString(gz.Bytes())
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
		"metadata": map[string]any{"name": fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, rev), "namespace": ns,
			"labels": map[string]any{"owner": "helm", "name": name, "status": status, "version": fmt.Sprint(rev)}},
		"data": map[string]any{"release": base64.StdEncoding.EncodeToString([]byte(payload))},
	}}
	return snapshot.Object{Unstructured: u}
}

func node(name, kubelet string) snapshot.Object {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": name},
		"status": map[string]any{"nodeInfo": map[string]any{"kubeletVersion": kubelet}},
	}}
	return snapshot.Object{Unstructured: u}
}

func liveSnapshot(t *testing.T, server string) *snapshot.Snapshot {
	pdb := `---
# Source: legacy/templates/pdb.yaml
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata:
  name: legacy
spec:
  minAvailable: 1
---
# Source: legacy/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: legacy
`
	s := &snapshot.Snapshot{
		Source: snapshot.SourceCluster,
		Server: &snapshot.Server{GitVersion: server},
		Objects: []snapshot.Object{
			// Written through a deprecated-but-served version by a controller, and by kubectl through v1.
			liveObject("resource.k8s.io/v1", "DeviceClass", "", "gpu",
				map[string]string{"dra-operator": "resource.k8s.io/v1beta2", "kubectl-edit": "resource.k8s.io/v1"}, ""),
			// Only the last-applied annotation remembers the old version.
			liveObject("storage.k8s.io/v1", "VolumeAttributesClass", "", "fast",
				map[string]string{"kubectl-client-side-apply": "storage.k8s.io/v1"}, `{"apiVersion":"storage.k8s.io/v1beta1","kind":"VolumeAttributesClass"}`),
			// A stale entry from before an upgrade: extensions/v1beta1 is long gone, not reported.
			liveObject("networking.k8s.io/v1", "Ingress", "shop", "web",
				map[string]string{"old-controller": "extensions/v1beta1", "nginx": "networking.k8s.io/v1"}, ""),
			helmSecret(t, "shop", "legacy", 1, "superseded", "", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"),
			helmSecret(t, "shop", "legacy", 2, "deployed", "<1.30.0-0", pdb),
			node("node-a", "v1.36.2"),
			node("node-b", "v1.33.0"),
			node("node-c", "v1.32.9"),
		},
	}
	s.Sort()
	return s
}

func TestLive(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name   string
		server string
		target Version
	}{
		{"live-1.36-default", "v1.36.1", Version{}},
		{"live-1.34-to-1.37", "v1.34.3", Version{37}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden.Check(t, tc.name, format(run(t, liveSnapshot(t, tc.server), Options{Target: tc.target, Now: now,
				Requested: []Request{{Group: "resource.k8s.io", Version: "v1beta2", Resource: "deviceclasses", RemovedRelease: "1.39"},
					{Group: "storage.k8s.io", Version: "v1beta1", Resource: "volumeattributesclasses", RemovedRelease: "1.37"}}})))
		})
	}
}

func TestSupportWindow(t *testing.T) {
	s := &snapshot.Snapshot{Source: snapshot.SourceCluster, Server: &snapshot.Server{GitVersion: "v1.34.1"}}
	for _, tc := range []struct {
		now  string
		want string // severity of the support finding, or ""
	}{
		{"2026-01-10", ""},
		{"2026-09-01", "medium"},
		{"2026-10-27", "high"},
		{"2027-03-01", "high"},
	} {
		now, err := time.Parse(time.DateOnly, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := supportFindings(s, Options{Target: Version{35}, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, f := range fs {
			got += f.Severity.String()
		}
		if got != tc.want {
			t.Errorf("at %s: got severities %q, want %q (%s)", tc.now, got, tc.want, format(fs))
		}
	}
	for i := 1; i < len(releases); i++ {
		if releases[i].Version.Minor != releases[i-1].Version.Minor+1 || releases[i].EndOfLife <= releases[i-1].EndOfLife || releases[i].Released >= releases[i].EndOfLife {
			t.Errorf("release data out of order at %v", releases[i].Version)
		}
	}
	if !strings.HasPrefix(releases[len(releases)-1].Version.String(), "1.") {
		t.Error("bad release data")
	}
}

// TestChart renders a chart directory whose template holds a removed API
// and whose kubeVersion excludes the target; --set turns the template off.
func TestChart(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		set  []string
	}{
		{"chart", nil},
		{"chart-ingress-off", []string{"ingress.enabled=false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := helmchart.Render(ctx, "testdata/charts/legacy", helmchart.Options{Set: tc.set, KubeVersion: "1.37.0"})
			if err != nil {
				t.Fatal(err)
			}
			c := res.Chart
			golden.Check(t, tc.name, format(run(t, res.Snapshot, Options{Target: Version{37},
				Charts: []Chart{{Path: c.Path, Name: c.Name, Version: c.Version, KubeVersion: c.KubeVersion}}})))
		})
	}
}
