package drift

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func paths(ch []Change) []string {
	var out []string
	for _, c := range ch {
		out = append(out, string(c.Op)+" "+c.Path)
	}
	return out
}

func TestCompareDesiredIgnoresServerNoise(t *testing.T) {
	desired := obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: web:1
        resources: {requests: {cpu: "0.5", memory: 1Gi}}
        ports: [{containerPort: 80}]
`)
	live := obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  uid: 1234
  resourceVersion: "99"
  generation: 3
  creationTimestamp: "2026-01-01T00:00:00Z"
  managedFields: [{manager: kubectl}]
  annotations: {deployment.kubernetes.io/revision: "3"}
spec:
  replicas: 2
  progressDeadlineSeconds: 600
  template:
    spec:
      restartPolicy: Always
      containers:
      - name: web
        image: web:1
        terminationMessagePath: /dev/termination-log
        resources: {requests: {cpu: 500m, memory: 1Gi}}
        ports: [{containerPort: 80, protocol: TCP}]
status: {replicas: 2}
`)
	if ch := Compare(desired, live, Desired); len(ch) != 0 {
		t.Errorf("want no drift, got %v", ch)
	}
	// A real change is reported with its path, through a keyed list.
	live2 := live.DeepCopy()
	cs, _, _ := unstructured.NestedSlice(live2.Object, "spec", "template", "spec", "containers")
	cs[0].(map[string]any)["image"] = "web:2"
	_ = unstructured.SetNestedSlice(live2.Object, cs, "spec", "template", "spec", "containers")
	live2.SetLabels(map[string]string{"app": "web", "hotfix": "yes"})
	got := Compare(desired, live2, Desired)
	want := []Change{
		{Path: "metadata.labels.hotfix", Op: Added, After: `"yes"`},
		{Path: "spec.template.spec.containers[name=web].image", Op: Changed, Before: `"web:1"`, After: `"web:2"`},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	// Exact mode sees the defaulted fields too.
	if ch := Compare(desired, live, Exact); len(ch) == 0 {
		t.Error("exact mode found no difference between desired and defaulted live object")
	}
}

func TestCompareNeverShowsSecretValues(t *testing.T) {
	a := obj(t, `{apiVersion: v1, kind: Secret, metadata: {name: s}, data: {password: aHVudGVyMg==}, stringData: {token: plain-token}}`)
	b := obj(t, `{apiVersion: v1, kind: Secret, metadata: {name: s}, data: {password: c2VjcmV0, extra: eA==}}`)
	got := Compare(a, b, Desired)
	if d := cmp.Diff([]string{"added data.extra", "changed data.password", "removed data.token"}, paths(got)); d != "" {
		t.Errorf("paths (-want +got):\n%s", d)
	}
	for _, c := range got {
		s := c.String()
		for _, secret := range []string{"aHVudGVyMg", "c2VjcmV0", "plain-token", "eA=="} {
			if strings.Contains(s, secret) {
				t.Errorf("change %q shows a secret value", s)
			}
		}
	}
}

func TestCleanStripsNoise(t *testing.T) {
	in := obj(t, `
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
  uid: x
  resourceVersion: "1"
  annotations: {backup.shipshape.dev/checksum: abc, kubectl.kubernetes.io/last-applied-configuration: "{}", team: a}
spec: {clusterIP: 10.0.0.7, clusterIPs: [10.0.0.7], ports: [{port: 80}]}
status: {loadBalancer: {}}
`)
	got := Clean(in)
	want := obj(t, `
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop, annotations: {team: a}}
spec: {ports: [{port: 80}]}
`)
	if d := cmp.Diff(want.Object, got.Object); d != "" {
		t.Errorf("Clean (-want +got):\n%s", d)
	}
	if _, ok := in.Object["status"]; !ok {
		t.Error("Clean changed its input")
	}
	headless := obj(t, `{apiVersion: v1, kind: Service, metadata: {name: h}, spec: {clusterIP: None}}`)
	if ip, _, _ := unstructured.NestedString(Clean(headless).Object, "spec", "clusterIP"); ip != "None" {
		t.Errorf("headless clusterIP = %q, want None kept", ip)
	}
}

func TestIgnored(t *testing.T) {
	for name, tc := range map[string]struct {
		y    string
		want bool
	}{
		"root CA":           {`{apiVersion: v1, kind: ConfigMap, metadata: {name: kube-root-ca.crt, namespace: a}}`, true},
		"user ConfigMap":    {`{apiVersion: v1, kind: ConfigMap, metadata: {name: app, namespace: a}}`, false},
		"controller-owned":  {`{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: r, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: d, uid: u, controller: true}]}}`, true},
		"token":             {`{apiVersion: v1, kind: Secret, metadata: {name: t, namespace: a}, type: kubernetes.io/service-account-token}`, true},
		"bootstrap RBAC":    {`{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: admin, labels: {kubernetes.io/bootstrapping: rbac-defaults}}}`, true},
		"user ClusterRole":  {`{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: mine}}`, false},
		"default namespace": {`{apiVersion: v1, kind: Namespace, metadata: {name: default}}`, true},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Ignored(obj(t, tc.y)) != ""; got != tc.want {
				t.Errorf("Ignored = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	so := func(y, path string) snapshot.Object {
		return snapshot.Object{Unstructured: obj(t, y), Origin: snapshot.Origin{Path: path, Line: 1}}
	}
	desired := []snapshot.Object{
		so(`{apiVersion: v1, kind: ConfigMap, metadata: {name: same}, data: {a: "1"}}`, "same.yaml"),
		so(`{apiVersion: v1, kind: ConfigMap, metadata: {name: changed, namespace: app}, data: {a: "1"}}`, "changed.yaml"),
		so(`{apiVersion: v1, kind: ConfigMap, metadata: {name: gone, namespace: app}}`, "gone.yaml"),
	}
	live := []snapshot.Object{
		so(`{apiVersion: v1, kind: ConfigMap, metadata: {name: same, namespace: app, uid: u}, data: {a: "1"}}`, ""),
		so(`{apiVersion: v1, kind: ConfigMap, metadata: {name: changed, namespace: app}, data: {a: "2"}}`, ""),
		so(`{apiVersion: v1, kind: ConfigMap, metadata: {name: extra, namespace: app}}`, ""),
		so(`{apiVersion: v1, kind: ConfigMap, metadata: {name: kube-root-ca.crt, namespace: app}}`, ""),
		so(`{apiVersion: v1, kind: ConfigMap, metadata: {name: elsewhere, namespace: other}}`, ""),
		so(`{apiVersion: v1, kind: Secret, metadata: {name: not-a-tree-kind, namespace: app}}`, ""),
	}
	r := Diff(desired, live, Options{
		Namespaced:       func(schema.GroupKind) (bool, bool) { return true, true },
		DefaultNamespace: "app",
	})
	keys := func(es []Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Key.String())
		}
		return out
	}
	if d := cmp.Diff([]string{"ConfigMap app/gone"}, keys(r.OnlyTree)); d != "" {
		t.Errorf("only in tree:\n%s", d)
	}
	if d := cmp.Diff([]string{"ConfigMap app/extra"}, keys(r.OnlyLive)); d != "" {
		t.Errorf("only live:\n%s", d)
	}
	if d := cmp.Diff([]string{"ConfigMap app/changed"}, keys(r.Changed)); d != "" {
		t.Errorf("changed:\n%s", d)
	}
	if r.Same != 1 || r.Clean() {
		t.Errorf("Same = %d, Clean = %v; want 1, false", r.Same, r.Clean())
	}
	if got := r.Changed[0].Origin.String(); got != "changed.yaml:1" {
		t.Errorf("origin = %q", got)
	}
}
