package apigen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeModule writes a fake k8s.io/api module: group dirs with register.go
// and generated lifecycle files.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
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

func TestGenerate(t *testing.T) {
	reg := "package v1beta1\n\nconst GroupName = \"widgets.k8s.io\"\n"
	regGA := "package v1\n\nconst GroupName = \"widgets.k8s.io\"\n"
	beta := `package v1beta1

import schema "k8s.io/apimachinery/pkg/runtime/schema"

func (in *Widget) APILifecycleIntroduced() (major, minor int) { return 1, 20 }
func (in *Widget) APILifecycleDeprecated() (major, minor int) { return 1, 23 }
func (in *Widget) APILifecycleReplacement() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: "widgets.k8s.io", Version: "v1", Kind: "Widget"}
}
func (in *Widget) APILifecycleRemoved() (major, minor int) { return 1, 26 }
func (in *Gadget) APILifecycleIntroduced() (major, minor int) { return 1, 20 }
func (in *Gadget) APILifecycleDeprecated() (major, minor int) { return 1, 23 }
func (in *Gadget) APILifecycleRemoved() (major, minor int) { return 1, 29 }
`
	ga := `package v1

func (in *Widget) APILifecycleIntroduced() (major, minor int) { return 1, 22 }
`
	old := writeModule(t, map[string]string{
		"widgets/v1beta1/register.go": reg, "widgets/v1beta1/zz_generated.prerelease-lifecycle.go": beta,
		"widgets/v1/register.go": regGA, "widgets/v1/zz_generated.prerelease-lifecycle.go": ga,
	})
	// In the newer module Gadget is gone (an alpha dropped early) and
	// Widget's removal marker moved.
	newer := writeModule(t, map[string]string{
		"widgets/v1beta1/register.go": reg,
		"widgets/v1beta1/zz_generated.prerelease-lifecycle.go": `package v1beta1

func (in *Widget) APILifecycleIntroduced() (major, minor int) { return 1, 20 }
func (in *Widget) APILifecycleDeprecated() (major, minor int) { return 1, 23 }
func (in *Widget) APILifecycleRemoved() (major, minor int) { return 1, 27 }
`,
		"widgets/v1/register.go": regGA, "widgets/v1/zz_generated.prerelease-lifecycle.go": ga,
	})
	out, err := Generate([]Module{{Version: "v0.26.0", Dir: newer}, {Version: "v0.24.0", Dir: old}})
	if err != nil {
		t.Fatal(err)
	}
	var f File
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var hand int
	var rows []API
	for _, a := range f.APIs {
		if a.Source == "hand" {
			hand++
		} else {
			rows = append(rows, a)
		}
	}
	if hand != len(handAPIs) {
		t.Errorf("%d hand-kept rows, want %d", hand, len(handAPIs))
	}
	f.APIs = rows
	want := File{
		Modules: []string{"v0.24.0", "v0.26.0"},
		APIs: []API{
			// Last seen in 1.24, so not served from 1.25 although its marker says 1.29.
			{APIVersion: "widgets.k8s.io/v1beta1", Kind: "Gadget", Introduced: "1.20", Deprecated: "1.23", Removed: "1.25", Source: "markers k8s.io/api@v0.24.0"},
			// The newest module wins; its replacement is empty, so none.
			{APIVersion: "widgets.k8s.io/v1beta1", Kind: "Widget", Introduced: "1.20", Deprecated: "1.23", Removed: "1.27", Source: "markers k8s.io/api@v0.26.0"},
		},
		Introduced: map[string]string{},
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("generated (-want +got):\n%s", diff)
	}
	// The same input gives the same bytes, whatever the order given.
	again, err := Generate([]Module{{Version: "v0.24.0", Dir: old}, {Version: "v0.26.0", Dir: newer}})
	if err != nil || string(again) != string(out) {
		t.Errorf("not deterministic: %v\n%s\n%s", err, out, again)
	}
	if _, err := Generate(nil); err == nil {
		t.Error("no modules: want an error")
	}
}

func TestModuleMinor(t *testing.T) {
	for in, want := range map[string]int{"v0.37.2": 37, "v0.19.0": 19} {
		if got, err := ModuleMinor(in); err != nil || got != want {
			t.Errorf("ModuleMinor(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := ModuleMinor("v1.2.3"); err == nil {
		t.Error("v1.2.3: want an error")
	}
}
