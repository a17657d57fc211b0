package manifest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// obj is what the tests compare of an object.
type obj struct {
	Path            string
	Line, Doc, Item int
	Kind, Name      string
}

// bad is what the tests compare of an invalid document.
type bad struct {
	Path            string
	Line, Doc, Item int
	Reason          string
}

func summarize(objects []snapshot.Object, invalid []snapshot.Invalid) ([]obj, []bad) {
	var objs []obj
	for _, o := range objects {
		objs = append(objs, obj{o.Origin.Path, o.Origin.Line, o.Origin.Document, o.Origin.Item, o.GetKind(), o.GetName()})
	}
	var bads []bad
	for _, i := range invalid {
		bads = append(bads, bad{i.Origin.Path, i.Origin.Line, i.Origin.Document, i.Origin.Item, i.Reason})
	}
	return objs, bads
}

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		paths   []string
		stdin   string
		objects []obj
		invalid []bad
	}{
		{
			name:  "multi-document YAML",
			paths: []string{"testdata/multi.yaml"},
			objects: []obj{
				{"testdata/multi.yaml", 3, 0, -1, "Service", "web"},
				{"testdata/multi.yaml", 15, 3, -1, "Deployment", "web"},
				{"testdata/multi.yaml", 48, 4, -1, "ConfigMap", "web"},
			},
		},
		{
			name:  "List and typed list",
			paths: []string{"testdata/list.yaml"},
			objects: []obj{
				{"testdata/list.yaml", 4, 0, 0, "ConfigMap", "first"},
				{"testdata/list.yaml", 15, 0, 2, "Secret", "third"},
				{"testdata/list.yaml", 23, 1, 0, "Pod", "typed-item"},
			},
			invalid: []bad{
				{"testdata/list.yaml", 14, 0, 1, `spec.ports[0].port: want integer (int32), got string "80"`},
			},
		},
		{
			name:  "JSON objects one after the other",
			paths: []string{"testdata/object.json"},
			objects: []obj{
				{"testdata/object.json", 2, 0, -1, "Namespace", "one"},
				{"testdata/object.json", 8, 1, -1, "Namespace", "two"},
			},
		},
		{
			name:  "broken documents between good ones",
			paths: []string{"testdata/broken.yaml"},
			objects: []obj{
				{"testdata/broken.yaml", 1, 0, -1, "ConfigMap", "before"},
				{"testdata/broken.yaml", 29, 4, -1, "ConfigMap", "after"},
			},
			invalid: []bad{
				{"testdata/broken.yaml", 10, 1, -1, "invalid YAML: did not find expected key"},
				{"testdata/broken.yaml", 20, 2, -1, `spec.ports[0].nodePort: want integer (int32), got string "${PORT}"`},
				{"testdata/broken.yaml", 27, 3, -1, `duplicate key "type" (first defined at line 26)`},
			},
		},
		{
			name:  "stdin",
			paths: []string{"-"},
			stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: piped\n---\nkind: ConfigMap\n",
			objects: []obj{
				{"-", 1, 0, -1, "ConfigMap", "piped"},
			},
			invalid: []bad{
				{"-", 6, 1, -1, "missing apiVersion"},
			},
		},
		{
			name:  "directory recursion in path order",
			paths: []string{"testdata/tree"},
			objects: []obj{
				{"testdata/tree/Upper.YAML", 1, 0, -1, "ConfigMap", "upper"},
				{"testdata/tree/a-b.yaml", 1, 0, -1, "ConfigMap", "a-b"},
				{"testdata/tree/a.yaml", 1, 0, -1, "ConfigMap", "a"},
				{"testdata/tree/a/deeper/obj.json", 2, 0, -1, "ConfigMap", "json"},
				{"testdata/tree/a/nested.yml", 1, 0, -1, "ConfigMap", "nested"},
			},
		},
		{
			name:  "a named file is read whatever its extension, once",
			paths: []string{"testdata/named.txt", "testdata/./named.txt"},
			objects: []obj{
				{"testdata/named.txt", 1, 0, -1, "ConfigMap", "named"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := Read(context.Background(), tt.paths, Options{Stdin: strings.NewReader(tt.stdin)})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if snap.Source != snapshot.SourceFiles {
				t.Errorf("Source = %q, want %q", snap.Source, snapshot.SourceFiles)
			}
			objs, bads := summarize(snap.Objects, snap.Invalid)
			if diff := cmp.Diff(tt.objects, objs); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.invalid, bads); diff != "" {
				t.Errorf("invalid (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadValues(t *testing.T) {
	snap, err := Read(context.Background(), []string{"testdata/multi.yaml"}, Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(snap.Objects) != 3 {
		t.Fatalf("read %d objects, want 3", len(snap.Objects))
	}
	service := snap.Objects[0].Object
	wantService := map[string]any{
		"apiVersion": "v1",
		"kind":       "Service",
		"metadata":   map[string]any{"name": "web"},
		"spec": map[string]any{
			"ports": []any{map[string]any{"port": int64(80), "targetPort": "http"}},
		},
	}
	if diff := cmp.Diff(wantService, service); diff != "" {
		t.Errorf("Service (-want +got):\n%s", diff)
	}
	deploy := snap.Objects[1]
	// The values unstructured.NestedInt64 and friends expect: int64, float64, maps.
	tpl := deploy.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	container := tpl["containers"].([]any)[0].(map[string]any)
	limits := container["resources"].(map[string]any)["limits"].(map[string]any)
	if got := limits["cpu"]; got != 0.5 {
		t.Errorf("cpu = %#v, want 0.5", got)
	}
	mode := tpl["volumes"].([]any)[0].(map[string]any)["configMap"].(map[string]any)["defaultMode"]
	if mode != int64(0o644) {
		t.Errorf("defaultMode = %#v, want int64 420 (0644 is octal)", mode)
	}
	if got := deploy.DeepCopy().Object["spec"].(map[string]any)["replicas"]; got != int64(2) {
		t.Errorf("replicas after DeepCopy = %#v, want int64 2", got)
	}
	data := snap.Objects[2].Object["data"].(map[string]any)
	if data["9000"] != "plain" || !strings.Contains(data["run.sh"].(string), "{{ not a placeholder here }}") {
		t.Errorf("ConfigMap data = %#v", data)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		want  string
		is    error
	}{
		{"missing file", []string{"testdata/multi.yaml", "testdata/nope.yaml"}, `read "testdata/nope.yaml": no such file or directory`, fs.ErrNotExist},
		{"no paths", nil, "read manifests: no paths given", nil},
		{"stdin without a reader", []string{"-"}, `read "-": no standard input to read`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := Read(context.Background(), tt.paths, Options{})
			if err == nil {
				t.Fatalf("Read = %v, want error %q", snap, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

func TestReadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, []string{"testdata/tree"}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context: error = %v, want context.Canceled", err)
	}
}

func TestReadSymlinks(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "m", "a.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
	// A loop back to the top, a second way into m, and a link to nowhere.
	symlink(t, dir, filepath.Join(dir, "m", "loop"))
	symlink(t, filepath.Join(dir, "m"), filepath.Join(dir, "again"))
	symlink(t, filepath.Join(dir, "missing.yaml"), filepath.Join(dir, "m", "broken.yaml"))

	snap, err := Read(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	objs, bads := summarize(snap.Objects, snap.Invalid)
	for i := range objs {
		objs[i].Path = strings.TrimPrefix(objs[i].Path, dir)
	}
	for i := range bads {
		bads[i].Path = strings.TrimPrefix(bads[i].Path, dir)
	}
	// m is walked as itself; the links to it add nothing.
	wantObjs := []obj{{"/m/a.yaml", 1, 0, -1, "ConfigMap", "a"}}
	if diff := cmp.Diff(wantObjs, objs); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	wantBad := []bad{{"/m/broken.yaml", 0, 0, -1, "cannot follow symbolic link: no such file or directory"}}
	if diff := cmp.Diff(wantBad, bads); diff != "" {
		t.Errorf("invalid (-want +got):\n%s", diff)
	}
}

func TestReadLimits(t *testing.T) {
	dir := t.TempDir()
	small := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: small\n"
	big := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  x: " + strings.Repeat("x", 3000) + "\n"
	write(t, filepath.Join(dir, "big-file.yaml"), big+"---\n"+big)
	write(t, filepath.Join(dir, "docs.yaml"), small+"---\n"+big+"---\n"+small)

	tests := []struct {
		name  string
		paths []string
		stdin string
		opts  Options
		objs  int
		want  []bad
	}{
		{
			name:  "file over the limit is not read",
			paths: []string{filepath.Join(dir, "big-file.yaml")},
			opts:  Options{MaxFileBytes: 4000},
			want:  []bad{{filepath.Join(dir, "big-file.yaml"), 0, 0, -1, "file is 6.0 KiB, larger than the limit of 3.9 KiB (--max-file-size); not read"}},
		},
		{
			name:  "stdin over the limit stops",
			paths: []string{"-"},
			stdin: small + "---\n" + big + "---\n" + big,
			opts:  Options{MaxFileBytes: 4000},
			objs:  2,
			want:  []bad{{"-", 18, 2, -1, "input is larger than the limit of 3.9 KiB (--max-file-size); the rest was not read"}},
		},
		{
			name:  "document over the limit",
			paths: []string{filepath.Join(dir, "docs.yaml")},
			opts:  Options{MaxDocumentBytes: 1000},
			objs:  2,
			want:  []bad{{filepath.Join(dir, "docs.yaml"), 5, 1, -1, "document is 3.0 KiB, larger than the limit of 1000 bytes (--max-document-size)"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Stdin = strings.NewReader(tt.stdin)
			snap, err := Read(context.Background(), tt.paths, tt.opts)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(snap.Objects) != tt.objs {
				t.Errorf("read %d objects, want %d", len(snap.Objects), tt.objs)
			}
			_, bads := summarize(nil, snap.Invalid)
			if diff := cmp.Diff(tt.want, bads); diff != "" {
				t.Errorf("invalid (-want +got):\n%s", diff)
			}
		})
	}
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symbolic links not available: %v", err)
	}
}

func TestReadProgress(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.yaml", "b.yaml", "c.json"} {
		doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
		if strings.HasSuffix(name, ".json") {
			doc = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var calls [][2]int
	var paths []string
	_, err := Read(context.Background(), []string{dir}, Options{Progress: func(done, total int, path string) {
		calls = append(calls, [2]int{done, total})
		paths = append(paths, filepath.Base(path))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][2]int{{1, 3}, {2, 3}, {3, 3}}, calls); diff != "" {
		t.Errorf("progress calls (-want +got)\n%s", diff)
	}
	slices.Sort(paths)
	if diff := cmp.Diff([]string{"a.yaml", "b.yaml", "c.json"}, paths); diff != "" {
		t.Errorf("progress paths (-want +got)\n%s", diff)
	}
}
