package exempt

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"testdata/bad-noreason.yaml", "testdata/bad-noreason.yaml:2: exemption of \"audit/host-path\" without reason"},
		{"testdata/bad-field.yaml", "line 3: field reson not found"},
		{"testdata/bad-date.yaml", "testdata/bad-date.yaml:2: expires \"30/06/2026\": want a date"},
		{"testdata/nope.yaml", "read exemptions"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(tc.file)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func obj(kind, ns, name string, line int, annotations map[string]string) snapshot.Object {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": kind}}
	u.SetNamespace(ns)
	u.SetName(name)
	if annotations != nil {
		u.SetAnnotations(annotations)
	}
	return snapshot.Object{Unstructured: u, Origin: snapshot.Origin{Path: "estate.yaml", Line: line, Item: -1}}
}

func TestSplit(t *testing.T) {
	snap := &snapshot.Snapshot{Source: snapshot.SourceFiles, Objects: []snapshot.Object{
		obj("DaemonSet", "monitoring", "node-exporter", 1, nil),
		obj("Deployment", "ci", "runner", 20, nil),
		obj("Deployment", "shop", "web", 40, map[string]string{Annotation: "audit/privileged", ReasonAnnotation: "legacy"}),
		obj("Deployment", "shop", "api", 60, map[string]string{Annotation: "audit/*"}),
	}}
	f := func(check string, o snapshot.Object) finding.Finding {
		return finding.Finding{Check: check, Severity: finding.High, Message: "m", Object: finding.ObjectOf(o), Location: finding.LocationOf(o)}
	}
	fs := []finding.Finding{
		f("audit/host-path", snap.Objects[0]),    // exempted by file
		f("audit/privileged", snap.Objects[0]),   // not covered
		f("audit/privileged", snap.Objects[1]),   // file entry, expired or not
		f("audit/privileged", snap.Objects[2]),   // annotation with reason
		f("audit/capabilities", snap.Objects[2]), // annotation does not name it
		f("audit/privileged", snap.Objects[3]),   // annotation without reason
		{Check: finding.InvalidDocumentCheck, Message: "bad", Location: &finding.Location{Path: "x.yaml", Line: 1}},
	}
	p, err := Load("testdata/exemptions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	summary := func(kept, ex []finding.Finding) []string {
		var out []string
		for _, f := range kept {
			out = append(out, "kept "+f.Check+" "+f.Where()+" "+f.Message)
		}
		for _, f := range ex {
			out = append(out, "exempt "+f.Check+" "+f.Where()+" "+f.Exemption)
		}
		return out
	}
	t.Run("before expiry", func(t *testing.T) {
		p.Now = func() time.Time { return time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC) }
		want := []string{
			"kept audit/privileged estate.yaml:1 (monitoring/DaemonSet/node-exporter) m",
			"kept audit/capabilities estate.yaml:40 (shop/Deployment/web) m",
			"kept audit/privileged estate.yaml:60 (shop/Deployment/api) m [annotation shipshape.dev/exempt ignored: shipshape.dev/exempt-reason is missing]",
			"kept input/invalid-document x.yaml:1 bad",
			"exempt audit/host-path estate.yaml:1 (monitoring/DaemonSet/node-exporter) reads node metrics from /proc and /sys (testdata/exemptions.yaml:4)",
			"exempt audit/privileged estate.yaml:20 (ci/Deployment/runner) CI runner migration, tracked in OPS-12 (testdata/exemptions.yaml:8)",
			"exempt audit/privileged estate.yaml:40 (shop/Deployment/web) legacy (annotation shipshape.dev/exempt)",
		}
		if diff := cmp.Diff(want, summary(p.Split(fs, snap))); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
	})
	t.Run("after expiry", func(t *testing.T) {
		p.Now = func() time.Time { return time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC) }
		kept, _ := p.Split(fs, snap)
		got := summary(kept, nil)
		want := "kept audit/privileged estate.yaml:20 (ci/Deployment/runner) m [exemption at testdata/exemptions.yaml:8 expired on 2026-06-30]"
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("kept findings lack %q:\n%s", want, strings.Join(got, "\n"))
		}
	})
	t.Run("annotations off", func(t *testing.T) {
		off, err := Load("testdata/annotations-off.yaml")
		if err != nil {
			t.Fatal(err)
		}
		_, ex := off.Split(fs, snap)
		if len(ex) != 0 {
			t.Errorf("annotations switched off, yet exempted %v", ex)
		}
	})
	t.Run("nil policy honours annotations", func(t *testing.T) {
		var none *Policy
		_, ex := none.Split(fs, snap)
		if len(ex) != 1 || ex[0].Object.Name != "web" {
			t.Errorf("exempted = %v, want the annotated web finding", ex)
		}
	})
}
