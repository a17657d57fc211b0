package manifest

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodeBytesMatchesStream holds the reading of a file read whole (cut
// without copying) to the reading of the same text as a stream.
func TestDecodeBytesMatchesStream(t *testing.T) {
	inputs := map[string][]byte{
		"bom":        []byte("\xef\xbb\xbfapiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"),
		"directive":  []byte("%YAML 1.2\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n%TAG ! x\napiVersion: v1\n"),
		"markers":    []byte("# head\n--- # c\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n...\n# between\n---\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n"),
		"json":       []byte(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}`),
		"no newline": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a"),
		"empty":      nil,
		"big":        append([]byte("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: "), bytes.Repeat([]byte("x"), 3000)...),
	}
	for _, dir := range []string{"testdata", corpusDirOrEmpty(t, "corpus-malformed")} {
		if dir == "" {
			continue
		}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			inputs[p] = data
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	objects := 0
	for _, limit := range []int64{0, 1000} {
		d := NewDecoder(Options{MaxDocumentBytes: limit})
		for name, data := range inputs {
			wantObjs, wantInv, wantErr := d.Decode(ctx, bytes.NewReader(data), name)
			gotObjs, gotInv, gotErr := d.decodeBytes(ctx, bytes.Clone(data), name)
			objects += len(gotObjs)
			if wantErr != nil || gotErr != nil {
				t.Errorf("%s: errors %v and %v", name, wantErr, gotErr)
			}
			if diff := cmp.Diff(wantObjs, gotObjs); diff != "" {
				t.Errorf("%s (limit %d): objects differ (-stream +whole):\n%s", name, limit, diff)
			}
			if diff := cmp.Diff(wantInv, gotInv); diff != "" {
				t.Errorf("%s (limit %d): invalid entries differ (-stream +whole):\n%s", name, limit, diff)
			}
		}
	}
	if objects < 20 {
		t.Errorf("read %d objects in all, too few for the comparison to mean much", objects)
	}
	t.Logf("%d inputs, %d objects", len(inputs), objects)
}

func corpusDirOrEmpty(t *testing.T, name string) string {
	dir := ""
	t.Run("find-"+name, func(t *testing.T) { dir = corpusDir(t, name) })
	return dir
}
