package helmrelease

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/release/common"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func helmRelease(name string, rev int, status common.Status) *rspb.Release {
	return &rspb.Release{
		Name:      name,
		Namespace: "shop",
		Version:   rev,
		Info:      &rspb.Info{Status: status},
		Config:    map[string]any{"password": "hunter2"},
		Manifest:  "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\n",
		Chart: &chart.Chart{Metadata: &chart.Metadata{
			Name: "web", Version: "1.2.3", AppVersion: "4.5", KubeVersion: ">=1.30.0-0",
			Dependencies: []*chart.Dependency{{Name: "redis", Version: "17.0.0", Repository: "https://charts.example.com"}},
		}},
	}
}

// records stores releases through Helm's own storage drivers (against a
// client-go fake, which only holds the objects) and returns the records as
// unstructured objects, as a cluster snapshot would hold them.
func records(t *testing.T, configMaps bool, rels ...*rspb.Release) []*unstructured.Unstructured {
	t.Helper()
	cs := fake.NewClientset()
	var d driver.Driver = driver.NewSecrets(cs.CoreV1().Secrets("shop"))
	if configMaps {
		d = driver.NewConfigMaps(cs.CoreV1().ConfigMaps("shop"))
	}
	for _, r := range rels {
		key := "sh.helm.release.v1." + r.Name + ".v" + itoa(r.Version)
		if err := d.Create(key, r); err != nil {
			t.Fatal(err)
		}
	}
	var out []*unstructured.Unstructured
	add := func(o runtime.Object, kind string) {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetAPIVersion("v1")
		u.SetKind(kind)
		out = append(out, u)
	}
	ctx := context.Background()
	if configMaps {
		l, err := cs.CoreV1().ConfigMaps("shop").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range l.Items {
			add(&l.Items[i], "ConfigMap")
		}
	} else {
		l, err := cs.CoreV1().Secrets("shop").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range l.Items {
			add(&l.Items[i], "Secret")
		}
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDecodeHelmRecords(t *testing.T) {
	for _, cm := range []bool{false, true} {
		name := "secret"
		if cm {
			name = "configmap"
		}
		t.Run(name, func(t *testing.T) {
			objs := records(t, cm, helmRelease("web", 1, common.StatusDeployed))
			if len(objs) != 1 {
				t.Fatalf("got %d records", len(objs))
			}
			if !IsRecord(objs[0]) {
				t.Fatalf("IsRecord = false for %s", objs[0].GetName())
			}
			r, err := Decode(objs[0])
			if err != nil {
				t.Fatal(err)
			}
			want := &Release{
				Name: "web", Namespace: "shop", Revision: 1, Status: "deployed",
				Chart: Chart{Name: "web", Version: "1.2.3", AppVersion: "4.5", KubeVersion: ">=1.30.0-0",
					Dependencies: []Dependency{{Name: "redis", Version: "17.0.0", Repository: "https://charts.example.com"}}},
				Values:   map[string]any{"password": "hunter2"},
				Manifest: "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\n",
				Record:   Record{Kind: objs[0].GetKind(), Namespace: "shop", Name: "sh.helm.release.v1.web.v1"},
			}
			if diff := cmp.Diff(want, r); diff != "" {
				t.Errorf("release (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLatestPrefersDeployed(t *testing.T) {
	objs := records(t, false,
		helmRelease("web", 1, common.StatusSuperseded),
		helmRelease("web", 2, common.StatusDeployed),
		helmRelease("web", 3, common.StatusFailed),
		helmRelease("api", 1, common.StatusFailed),
		helmRelease("api", 2, common.StatusPendingUpgrade),
	)
	// One record that is not Helm's at all, and one that is corrupt.
	other := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": "x", "namespace": "shop"}}}
	bad := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret", "type": SecretType,
		"metadata": map[string]any{"name": "sh.helm.release.v1.bad.v1", "namespace": "shop"},
		"data":     map[string]any{"release": base64.StdEncoding.EncodeToString([]byte("not base64!"))}}}
	objs = append(objs, other, bad)

	rels, problems := Latest(objs)
	var got []string
	for _, r := range rels {
		got = append(got, r.Name+"@"+itoa(r.Revision)+":"+r.Status)
	}
	want := []string{"api@2:pending-upgrade", "web@2:deployed"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("latest (-want +got):\n%s", diff)
	}
	if len(problems) != 1 || problems[0].Record.Name != "sh.helm.release.v1.bad.v1" || !strings.Contains(problems[0].Err.Error(), "not base64") {
		t.Errorf("problems = %+v, want the corrupt record reported", problems)
	}
}

func TestDecodeRejectsNonRecords(t *testing.T) {
	o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "settings", "namespace": "shop"}}}
	if IsRecord(o) {
		t.Fatal("a plain ConfigMap is not a release record")
	}
	if _, err := Decode(o); err == nil || !strings.Contains(err.Error(), "not a Helm release record") {
		t.Fatalf("err = %v", err)
	}
}
