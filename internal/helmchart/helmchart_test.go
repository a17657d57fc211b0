package helmchart

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	v2util "helm.sh/helm/v4/pkg/chart/v2/util"
)

func writeChart(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "web")
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var webChart = map[string]string{
	"Chart.yaml":             "apiVersion: v2\nname: web\nversion: 1.2.3\nappVersion: \"4.5\"\nkubeVersion: \">=1.20.0-0 <1.22.0-0\"\n",
	"values.yaml":            "replicas: 1\nhost: shop.example.com\ningress: true\n",
	"templates/_helpers.tpl": `{{- define "web.name" -}}{{ .Release.Name }}-web{{- end -}}`,
	"templates/NOTES.txt":    "Thanks for installing {{ .Release.Name }}.",
	"templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "web.name" . }}
  namespace: {{ .Release.Namespace }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
`,
	"templates/ingress.yaml": `{{- if .Values.ingress }}
# an Ingress on an API removed in 1.22
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: {{ include "web.name" . }}
spec:
  rules:
    - host: {{ .Values.host }}
      http:
        paths:
          - backend:
              serviceName: web
              servicePort: 80
{{- end }}
`,
	"templates/empty.yaml": `{{- if false }}
kind: Nothing
{{- end }}
`,
}

func TestRenderDirectory(t *testing.T) {
	dir := writeChart(t, webChart)
	values := filepath.Join(t.TempDir(), "prod.yaml")
	if err := os.WriteFile(values, []byte("replicas: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Render(context.Background(), dir, Options{
		ValuesFiles: []string{values}, Set: []string{"host=prod.example.com"},
		ReleaseName: "shop", Namespace: "storefront", KubeVersion: "1.21.4",
	})
	if err != nil {
		t.Fatal(err)
	}
	wantChart := Chart{Path: dir, Name: "web", Version: "1.2.3", AppVersion: "4.5", KubeVersion: ">=1.20.0-0 <1.22.0-0"}
	if diff := cmp.Diff(wantChart, res.Chart); diff != "" {
		t.Errorf("chart (-want +got):\n%s", diff)
	}
	var got []string
	for _, o := range res.Snapshot.Objects {
		got = append(got, o.Origin.Path[len(dir)+1:]+":"+itoa(o.Origin.Line)+" "+o.GetAPIVersion()+" "+o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName())
	}
	want := []string{
		"templates/deployment.yaml:1 apps/v1 Deployment storefront/shop-web",
		"templates/ingress.yaml:3 extensions/v1beta1 Ingress /shop-web",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	dep := res.Snapshot.Objects[0]
	if r, _, _ := nestedInt(dep.Object, "spec", "replicas"); r != 3 {
		t.Errorf("replicas = %v, want 3 from the values file", r)
	}
	ing := res.Snapshot.Objects[1]
	rules, _ := ing.Object["spec"].(map[string]any)["rules"].([]any)
	if host := rules[0].(map[string]any)["host"]; host != "prod.example.com" {
		t.Errorf("host = %v, want the --set value", host)
	}
}

func TestRenderArchive(t *testing.T) {
	dir := writeChart(t, webChart)
	ch, err := loader.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := v2util.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !IsChart(tgz) || !IsChart(dir) || IsChart(t.TempDir()) {
		t.Fatal("IsChart misjudges a chart, an archive or an empty directory")
	}
	res, err := Render(context.Background(), tgz, Options{Set: []string{"ingress=false"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Snapshot.Objects) != 1 || res.Snapshot.Objects[0].GetKind() != "Deployment" {
		t.Fatalf("objects = %d, want only the Deployment (ingress disabled)", len(res.Snapshot.Objects))
	}
	if p := res.Snapshot.Objects[0].Origin.Path; p != tgz+"/templates/deployment.yaml" {
		t.Errorf("origin = %q", p)
	}
}

func TestRenderErrors(t *testing.T) {
	broken := map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: web\nversion: 1.0.0\n",
		"templates/bad.yaml":  "kind: {{ .Values.missing.deeper }}\n",
		"templates/good.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
	}
	deps := map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 1.0.0\n  repository: https://charts.example.com\n",
	}
	invalid := map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
		"templates/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
	}
	for _, tc := range []struct {
		name, want string
		files      map[string]string
		opts       Options
	}{
		{"template error", "bad.yaml", broken, Options{}},
		{"missing dependency", "dependencies not in charts/: redis", deps, Options{}},
		{"bad --set", "--set", webChart, Options{Set: []string{"a[x]=1"}}},
		{"bad kube version", "kube version", webChart, Options{KubeVersion: "banana"}},
		{"missing values file", "values file", webChart, Options{ValuesFiles: []string{"/nonexistent/values.yaml"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(context.Background(), writeChart(t, tc.files), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	t.Run("not a chart", func(t *testing.T) {
		_, err := Render(context.Background(), t.TempDir(), Options{})
		if err == nil || !strings.Contains(err.Error(), "loading chart") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("invalid document is reported, others read", func(t *testing.T) {
		res, err := Render(context.Background(), writeChart(t, invalid), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Snapshot.Objects) != 1 || len(res.Snapshot.Invalid) != 1 || !res.Snapshot.Partial() {
			t.Fatalf("objects %d, invalid %d; want 1 and 1", len(res.Snapshot.Objects), len(res.Snapshot.Invalid))
		}
		if inv := res.Snapshot.Invalid[0]; !strings.HasSuffix(inv.Origin.Path, "templates/cm.yaml") || inv.Origin.Line != 5 {
			t.Errorf("invalid at %s:%d, want templates/cm.yaml:5", inv.Origin.Path, inv.Origin.Line)
		}
	})
}

func TestRenderExampleChart(t *testing.T) {
	res, err := Render(context.Background(), filepath.Join("..", "..", "examples", "charts", "notifier"), Options{Namespace: "tracking", Set: []string{"smtp.password=example"}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, o := range res.Snapshot.Objects {
		kinds[o.GetKind()]++
	}
	if kinds["Deployment"] != 1 || kinds["Service"] != 1 || kinds["Secret"] != 1 {
		t.Errorf("kinds = %v", kinds)
	}
}

func nestedInt(m map[string]any, path ...string) (int64, bool, error) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return 0, false, nil
		}
		cur = mm[p]
	}
	switch v := cur.(type) {
	case int64:
		return v, true, nil
	case float64:
		return int64(v), true, nil
	}
	return 0, false, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
