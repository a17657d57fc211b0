package drill_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/drill"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/restore"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// TestDrillInFreshSandbox starts a sandbox with the real shipshape-sandbox
// binary, as `shipshape drill` does, restores the restore package's test
// estate (31 objects, a CRD with custom resources among them) and compares.
func TestDrillInFreshSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a sandbox")
	}
	bin, err := sandboxtest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	snap, err := manifest.Read(context.Background(), []string{"../restore/testdata/estate.yaml"}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sb, err := drill.StartSandbox(ctx, bin, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := sb.Dir
	defer func() {
		if err := sb.Stop(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("sandbox directory %s left behind", dir)
		}
	}()
	target, err := cluster.ConfigFlags{Kubeconfig: sb.Kubeconfig}.Load()
	if err != nil {
		t.Fatal(err)
	}

	rep, err := drill.Run(ctx, target, snap.Objects, drill.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed() {
		for _, it := range rep.Restore.Items {
			if it.Action != restore.Create {
				t.Errorf("%s %s: %s", it.Action, it.Key, it.Detail)
			}
		}
		for _, e := range rep.Drift.Changed {
			t.Errorf("changed %s: %v", e.Key, e.Changes)
		}
		t.Fatalf("drill failed: %d failures", rep.Failures())
	}
	if rep.Drift.Same != len(snap.Objects) || rep.Restore.Count(restore.Create) != len(snap.Objects) {
		t.Errorf("compared %d equal and created %d, want %d each", rep.Drift.Same, rep.Restore.Count(restore.Create), len(snap.Objects))
	}
	if rep.RestoreDuration <= 0 {
		t.Error("no restore duration")
	}

	// A second drill into the same cluster with an object nobody serves
	// fails, naming it.
	gadget := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.org/v1", "kind": "Gadget", "metadata": map[string]any{"name": "g", "namespace": "shop"},
	}}
	objs := append(append([]snapshot.Object{}, snap.Objects...), snapshot.Object{Unstructured: gadget})
	rep, err = drill.Run(ctx, target, objs, drill.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed() || rep.Failures() != 1 {
		t.Errorf("drill with an unserved object: passed=%v failures=%d, want false, 1", rep.Passed(), rep.Failures())
	}
}

func TestStartSandboxMissingBinary(t *testing.T) {
	_, err := drill.StartSandbox(context.Background(), "no-such-shipshape-sandbox-binary", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "--sandbox-bin") {
		t.Fatalf("missing binary: err = %v, want a hint at --sandbox-bin", err)
	}
}
