package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

// TestUpgradeLiveEstate runs `shipshape upgrade -A` against a sandbox seeded
// with the demo estate (and its Helm release, installed with the Helm SDK):
// the ShippingRate the seeder wrote through its CRD's deprecated v1beta1 is
// found through managedFields, the default target is the server's minor + 1,
// and every upgrade check runs without a warning.
func TestUpgradeLiveEstate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a seeded sandbox")
	}
	env, err := sandboxtest.Start(context.Background(), sandboxtest.Options{Seed: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })

	streams, out, errb := testStreams("")
	code := Main(context.Background(), []string{"upgrade", "-A", "--kubeconfig", env.Kubeconfig(), "-o", "json", "--fail-on", "none"}, streams)
	if code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, errb)
	}
	var rep struct {
		Findings []struct {
			Check, Message string
			Object         *struct{ Kind, Namespace, Name string }
		}
		Warnings []struct{ Source, Message string }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, w := range rep.Warnings {
		if strings.HasPrefix(w.Source, "upgrade/") {
			t.Errorf("warning from %s: %s", w.Source, w.Message)
		}
	}
	found := false
	for _, f := range rep.Findings {
		if f.Check == "upgrade/deprecated-api" && f.Object != nil && f.Object.Kind == "ShippingRate" && f.Object.Namespace == "tracking" {
			found = true
			if !strings.Contains(f.Message, `"shipshape-sandbox" (apply) wrote it through tracking.northwind.example/v1beta1 ShippingRate`) {
				t.Errorf("message does not name the writer and version: %s", f.Message)
			}
		}
		if f.Check == "upgrade/removed-api" {
			t.Errorf("the estate uses no removed API, got: %s", f.Message)
		}
	}
	if !found {
		t.Errorf("the ShippingRate written through a deprecated version was not found:\n%s", out)
	}
}
