package manifest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// corpusDir returns the shared corpus folder name (corpus or
// corpus-malformed), or skips the test when it is absent. The corpus lives
// next to the repository, never inside it; SHIPSHAPE_CORPUS names the
// folder that holds it.
func corpusDir(tb testing.TB, name string) string {
	tb.Helper()
	shared := os.Getenv("SHIPSHAPE_CORPUS")
	if shared == "" {
		root, err := repoRoot()
		if err != nil {
			tb.Skipf("no repository root: %v", err)
		}
		shared = filepath.Join(root, "..", "shared")
	}
	dir := filepath.Join(shared, name)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		tb.Skipf("corpus %s not present", dir)
	}
	return dir
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// Counts from the corpus README: files read and objects with List items expanded.
const (
	corpusFiles   = 1803
	corpusObjects = 4629
)

func TestReadCorpus(t *testing.T) {
	dir := corpusDir(t, "corpus")
	snap, err := Read(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	files := map[string]bool{}
	kinds := map[string]bool{}
	for _, o := range snap.Objects {
		files[o.Origin.Path] = true
		kinds[o.GetAPIVersion()+"/"+o.GetKind()] = true
		if o.Origin.Line < 1 {
			t.Errorf("%s document %d: line %d, want >= 1", o.Origin.Path, o.Origin.Document, o.Origin.Line)
		}
	}
	docs := map[string]bool{}
	for _, inv := range snap.Invalid {
		t.Logf("invalid: %s (document %d): %s", rel(dir, inv.Origin), inv.Origin.Document, inv.Reason)
		r, _ := filepath.Rel(dir, inv.Origin.Path)
		docs[fmt.Sprintf("%s#%d", filepath.ToSlash(r), inv.Origin.Document)] = true
		if inv.Origin.Line < 1 {
			t.Errorf("%s: line %d, want >= 1", r, inv.Origin.Line)
		}
	}
	seen := map[string]bool{}
	for f := range files {
		seen[f] = true
	}
	for _, inv := range snap.Invalid {
		seen[inv.Origin.Path] = true
	}
	if len(seen) != corpusFiles {
		t.Errorf("read %d files, want %d", len(seen), corpusFiles)
	}
	var got []string
	for d := range docs {
		got = append(got, d)
	}
	sort.Strings(got)
	if diff := cmp.Diff(corpusInvalidDocs, got); diff != "" {
		t.Errorf("invalid documents (-want +got):\n%s", diff)
	}
	t.Logf("%d objects from %d files, %d apiVersion/kind pairs, %d invalid entries in %d documents",
		len(snap.Objects), len(files), len(kinds), len(snap.Invalid), len(docs))
	// The README counts every document as an object; the invalid ones are
	// not objects here.
	if want := corpusObjects - len(corpusInvalidDocs); len(snap.Objects) != want {
		t.Errorf("read %d objects, want %d (%d in the README less %d invalid documents)",
			len(snap.Objects), want, corpusObjects, len(corpusInvalidDocs))
	}
}

// corpusInvalidDocs are the documents of the corpus that are broken in the
// file itself, as path#document: most have a duplicate mapping key (kubectl
// refuses them: "mapping key already defined"); rundeck's passes an
// unrendered "{{ .Release.Name }}" to its container; kubent's
// VolumeSnapshotContent has its annotations as a list, which the API server
// cannot decode.
var corpusInvalidDocs = []string{
	"helm-charts-2018/elasticsearch-exporter.yaml#1",
	"helm-charts-2018/fluentd-elasticsearch.yaml#4",
	"helm-charts-2018/hlf-ord.yaml#4",
	"helm-charts-2018/prometheus-blackbox-exporter.yaml#2",
	"helm-charts-2018/stackdriver-exporter.yaml#1",
	"helm-charts-2021/collabora-code.yaml#3",
	"helm-charts-2021/goldfish.yaml#3",
	"helm-charts-2021/hazelcast.yaml#8",
	"helm-charts-2021/kured.yaml#5",
	"helm-charts-2021/mysqlha.yaml#4",
	"helm-charts-2021/prometheus-snmp-exporter.yaml#4",
	"helm-charts-2021/rethinkdb.yaml#8",
	"helm-charts-2021/rundeck.yaml#4",
	"k8s-examples-2018/staging/openshift-origin/etcd-controller.yaml#0",
	"k8s-examples-2018/staging/openshift-origin/etcd-discovery-controller.yaml#0",
	"k8s-examples-2018/staging/openshift-origin/openshift-controller.yaml#0",
	"k8s-examples-2018/staging/storage/minio/minio-distributed-statefulset.yaml#0",
	"k8s-examples-2018/staging/volumes/scaleio/sc-pvc.yaml#0",
	"k8s-examples-head/_archived/openshift-origin/etcd-controller.yaml#0",
	"k8s-examples-head/_archived/openshift-origin/etcd-discovery-controller.yaml#0",
	"k8s-examples-head/_archived/openshift-origin/openshift-controller.yaml#0",
	"k8s-examples-head/_archived/volumes/scaleio/sc-pvc.yaml#0",
	"peers-testdata/kubent/fixtures/volumesnapshotcontent-v1beta1.yaml#0",
}

func rel(dir string, o snapshot.Origin) string {
	r, err := filepath.Rel(dir, o.Path)
	if err != nil {
		return o.String()
	}
	o.Path = r
	return o.String()
}

func TestReadCorpusMalformed(t *testing.T) {
	dir := corpusDir(t, "corpus-malformed")
	// want lists a line that must be reported for each file, with a word of
	// its reason; 0 means any line.
	want := map[string]struct {
		line int
		word string
	}{
		"peers-testdata/kube-score/parser/testdata/invalid-yaml.yaml":                                  {11, "nodePort"},
		"k8s-examples-head/_archived/volumes/fibre_channel/fc.yaml":                                    {17, "lun"},
		"helm-charts-2021/etcd.yaml":                                                                   {8, `duplicate key "metadata"`},
		"helm-charts-2018/eventrouter.yaml":                                                            {26, `duplicate key "apiVersion"`},
		"k8s-examples-2018/staging/persistent-volume-provisioning/quobyte/quobyte-admin-secret.yaml":   {9, `duplicate key "type"`},
		"k8s-examples-head/_archived/persistent-volume-provisioning/quobyte/quobyte-admin-secret.yaml": {9, `duplicate key "type"`},
		"peers-testdata/kubent/fixtures/autoscaler-v2beta1.yaml":                                       {21, "lastScaleTime"},
		"peers-testdata/kubent/fixtures/autoscaler-v2beta2.yaml":                                       {21, "lastScaleTime"},
		"k8s-examples-2018/staging/storage/vitess/vttablet-pod-template.yaml":                          {4, "{{uid}}"},
		"k8s-examples-head/_archived/storage/vitess/vttablet-pod-template.yaml":                        {4, "{{uid}}"},
		"k8s-examples-2018/staging/storage/vitess/vtctld-controller-template.yaml":                     {47, "{{backup_flags}}"},
		"k8s-examples-head/_archived/storage/vitess/vtctld-controller-template.yaml":                   {47, "{{backup_flags}}"},
	}
	snap, err := Read(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	byFile := map[string][]snapshot.Invalid{}
	for _, inv := range snap.Invalid {
		r, _ := filepath.Rel(dir, inv.Origin.Path)
		byFile[r] = append(byFile[r], inv)
		t.Logf("%s (document %d): %s", rel(dir, inv.Origin), inv.Origin.Document, inv.Reason)
		if inv.Origin.Line < 1 {
			t.Errorf("%s: line %d, want > 0", r, inv.Origin.Line)
		}
	}
	for file, w := range want {
		found := false
		for _, inv := range byFile[file] {
			if (w.line == 0 || inv.Origin.Line == w.line) && strings.Contains(inv.Reason, w.word) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no invalid entry at line %d mentioning %q; got %v", file, w.line, w.word, byFile[file])
		}
	}
	if len(byFile) != len(want) {
		t.Errorf("%d files have invalid entries, want %d", len(byFile), len(want))
	}
	// Every other document is still read: the files hold this many documents
	// that are fine.
	objects := map[string]int{}
	for _, o := range snap.Objects {
		r, _ := filepath.Rel(dir, o.Origin.Path)
		objects[r]++
	}
	t.Logf("objects read beside the invalid documents: %v", objects)
	for _, f := range []string{"helm-charts-2021/etcd.yaml", "helm-charts-2018/eventrouter.yaml"} {
		if objects[f] == 0 {
			t.Errorf("%s: no objects read beside the invalid document", f)
		}
	}
}
