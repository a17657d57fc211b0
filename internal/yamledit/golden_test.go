package yamledit

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/shipshape-dev/shipshape/internal/golden"
)

// edit is one golden case: an edit on the first document's root.
type edit struct {
	name string
	do   func(t *testing.T, root *yaml.Node) error
}

func must(t *testing.T, n *yaml.Node, path ...string) *yaml.Node {
	t.Helper()
	got := Lookup(n, path...)
	if got == nil {
		t.Fatalf("no node at %s", strings.Join(path, "."))
	}
	return got
}

func mustNode(t *testing.T, v any) *yaml.Node {
	t.Helper()
	n, err := NewNode(v)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// deploymentEdits work on the indent2 and indent4 fixtures.
var deploymentEdits = []edit{
	{"set-scalar", func(t *testing.T, r *yaml.Node) error { return SetScalar(must(t, r, "metadata"), "name", "api") }},
	{"set-quoted", func(t *testing.T, r *yaml.Node) error {
		return SetScalar(must(t, r, "metadata", "labels"), "tier", "back\"end")
	}},
	{"set-int", func(t *testing.T, r *yaml.Node) error { return SetValue(must(t, r, "spec"), "replicas", 5) }},
	{"set-new-key", func(t *testing.T, r *yaml.Node) error { return SetScalar(must(t, r, "metadata"), "namespace", "prod") }},
	{"delete-key", func(t *testing.T, r *yaml.Node) error {
		_, err := Delete(must(t, r, "spec"), "template")
		return err
	}},
	{"delete-with-comment", func(t *testing.T, r *yaml.Node) error {
		_, err := Delete(must(t, r, "spec", "template", "spec", "containers", "0"), "ports")
		return err
	}},
	{"delete-first-of-item", func(t *testing.T, r *yaml.Node) error {
		_, err := Delete(must(t, r, "spec", "template", "spec", "containers", "0"), "name")
		return err
	}},
	{"delete-last-key", func(t *testing.T, r *yaml.Node) error {
		_, err := Delete(must(t, r, "spec", "template", "metadata", "labels"), "app")
		return err
	}},
	{"rename", func(t *testing.T, r *yaml.Node) error {
		return Rename(must(t, r, "spec", "template", "spec", "containers", "1"), "command", "args")
	}},
	{"ensure-mapping", func(t *testing.T, r *yaml.Node) error {
		sc, err := EnsureMapping(r, "spec", "template", "spec", "securityContext")
		if err != nil {
			return err
		}
		if err := SetValue(sc, "runAsNonRoot", true); err != nil {
			return err
		}
		return SetValue(sc, "seccompProfile", map[string]string{"type": "RuntimeDefault"})
	}},
	{"ensure-mapping-in-item", func(t *testing.T, r *yaml.Node) error {
		for _, c := range must(t, r, "spec", "template", "spec", "containers").Content {
			caps, err := EnsureMapping(c, "securityContext", "capabilities")
			if err != nil {
				return err
			}
			if err := SetValue(caps, "drop", []string{"ALL"}); err != nil {
				return err
			}
		}
		return nil
	}},
	{"insert-after", func(t *testing.T, r *yaml.Node) error {
		return InsertAfter(must(t, r, "spec", "template", "spec"), "containers", "automountServiceAccountToken", mustNode(t, false))
	}},
	{"insert-first", func(t *testing.T, r *yaml.Node) error {
		return InsertAfter(must(t, r, "spec", "template", "spec", "containers", "0"), "", "imagePullPolicy", String("Always"))
	}},
	{"append-item", func(t *testing.T, r *yaml.Node) error {
		return Append(must(t, r, "spec", "template", "spec", "containers"),
			mustNode(t, map[string]any{"name": "log", "image": "fluent-bit", "args": []string{"-c", "/etc/fb.conf"}}))
	}},
	{"delete-item", func(t *testing.T, r *yaml.Node) error {
		s := must(t, r, "spec", "template", "spec", "containers", "1", "command")
		s.Content = s.Content[1:]
		return nil
	}},
	{"move", func(t *testing.T, r *yaml.Node) error {
		return Move(r, []string{"spec", "replicas"}, []string{"spec", "scale", "replicas"})
	}},
	{"replace-with-mapping", func(t *testing.T, r *yaml.Node) error {
		return SetValue(must(t, r, "spec", "template", "spec", "containers", "0"), "image", map[string]string{"repository": "nginx", "tag": "1.27"})
	}},
	{"flow-mapping", func(t *testing.T, r *yaml.Node) error {
		return SetScalar(must(t, r, "metadata", "annotations"), "c", "3")
	}},
	{"flow-sequence", func(t *testing.T, r *yaml.Node) error {
		return Append(must(t, r, "spec", "template", "spec", "containers", "0", "args"), String("--verbose"))
	}},
	{"empty-flow-sequence", func(t *testing.T, r *yaml.Node) error {
		return Append(must(t, r, "spec", "template", "spec", "volumes"), mustNode(t, map[string]any{"name": "tmp", "emptyDir": map[string]any{}}))
	}},
	{"block-scalar", func(t *testing.T, r *yaml.Node) error {
		s := must(t, r, "spec", "template", "spec", "containers", "1", "command", "2")
		s.Value = "echo bye\nexit 0\n"
		return nil
	}},
	{"head-comment", func(t *testing.T, r *yaml.Node) error {
		k := r.Content[keyIndex(r, "kind")]
		k.HeadComment = "# set by shipshape"
		return nil
	}},
}

// ingressEdits are what `upgrade fix` does to an old Ingress.
var ingressEdits = []edit{
	{"ingress-v1", func(t *testing.T, r *yaml.Node) error {
		if err := SetScalar(r, "apiVersion", "networking.k8s.io/v1"); err != nil {
			return err
		}
		for _, rule := range must(t, r, "spec", "rules").Content {
			for _, p := range must(t, rule, "http", "paths").Content {
				be := must(t, p, "backend")
				if err := Move(be, []string{"serviceName"}, []string{"service", "name"}); err != nil {
					return err
				}
				port := must(t, be, "servicePort")
				if _, err := Delete(be, "servicePort"); err != nil {
					return err
				}
				key := "number"
				if port.Tag == "!!str" {
					key = "name"
				}
				pm, err := EnsureMapping(be, "service", "port")
				if err != nil {
					return err
				}
				if err := Set(pm, key, port); err != nil {
					return err
				}
				if err := InsertAfter(p, "path", "pathType", String("Prefix")); err != nil {
					return err
				}
			}
		}
		return nil
	}},
	{"delete-tls", func(t *testing.T, r *yaml.Node) error {
		_, err := Delete(must(t, r, "spec"), "tls")
		return err
	}},
	{"delete-rule-item", func(t *testing.T, r *yaml.Node) error {
		p := must(t, r, "spec", "rules", "0", "http", "paths")
		p.Content = p.Content[1:]
		return nil
	}},
	{"append-host", func(t *testing.T, r *yaml.Node) error {
		return Append(must(t, r, "spec", "tls", "0", "hosts"), String("www.example.com"))
	}},
	{"append-rule", func(t *testing.T, r *yaml.Node) error {
		return Append(must(t, r, "spec", "rules"), mustNode(t, map[string]any{
			"host": "b.example.com", "http": map[string]any{"paths": []any{map[string]any{"path": "/", "pathType": "Prefix"}}}}))
	}},
}

// commentEdits change entries next to comments in every position.
var commentEdits = []edit{
	{"set-next-to-comments", func(t *testing.T, r *yaml.Node) error {
		if err := SetScalar(r, "apiVersion", "v2"); err != nil {
			return err
		}
		if err := SetScalar(must(t, r, "metadata"), "name", "other"); err != nil {
			return err
		}
		if err := SetScalar(must(t, r, "data"), "a", "2"); err != nil {
			return err
		}
		must(t, r, "data", "list", "0").Value = "uno"
		return nil
	}},
	{"delete-commented", func(t *testing.T, r *yaml.Node) error {
		if _, err := Delete(must(t, r, "data"), "b"); err != nil {
			return err
		}
		l := must(t, r, "data", "list")
		l.Content = l.Content[:1]
		return nil
	}},
	{"insert-around-comments", func(t *testing.T, r *yaml.Node) error {
		if err := SetScalar(must(t, r, "metadata"), "namespace", "ns"); err != nil {
			return err
		}
		if err := Append(must(t, r, "data", "list"), String("three")); err != nil {
			return err
		}
		if err := SetScalar(must(t, r, "data"), "z", "after last"); err != nil {
			return err
		}
		return InsertAfter(r, "", "first", String("before apiVersion"))
	}},
	{"rewrite-commented-entry", func(t *testing.T, r *yaml.Node) error {
		return SetValue(must(t, r, "data"), "list", []string{"x", "y"})
	}},
}

// TestGoldenEdits applies each edit to a fixture and compares the result
// and its diff with testdata/golden/. Each result must parse to the edited
// tree.
func TestGoldenEdits(t *testing.T) {
	cases := map[string][]edit{
		"indent2.yaml":  deploymentEdits,
		"indent4.yaml":  deploymentEdits,
		"compact.yaml":  ingressEdits,
		"comments.yaml": commentEdits,
	}
	for fixture, edits := range cases {
		src, err := os.ReadFile("testdata/" + fixture)
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(fixture, ".yaml")
		for _, e := range edits {
			t.Run(base+"/"+e.name, func(t *testing.T) {
				f, err := Parse(fixture, src)
				if err != nil {
					t.Fatal(err)
				}
				root := f.Documents()[0].Root()
				if err := e.do(t, root); err != nil {
					t.Fatal(err)
				}
				want := decoded(t, root)
				out, err := f.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				diff := Diff(fixture, src, out)
				if diff == "" {
					t.Fatal("the edit changed nothing")
				}
				golden.Check(t, "golden/"+base+"-"+e.name+".yaml", out)
				golden.Check(t, "golden/"+base+"-"+e.name+".diff", []byte(diff))
				g, err := Parse(fixture, out)
				if err != nil {
					t.Fatalf("output does not parse: %v", err)
				}
				if got := decoded(t, g.Documents()[0].Root()); !equalValues(want, got) {
					t.Errorf("re-parsed output differs from the edited tree:\n%s", diff)
				}
				for i, doc := range f.Documents()[1:] {
					gd := g.Documents()[i+1]
					if string(out[gd.Offset:gd.End]) != string(src[doc.Offset:doc.End]) {
						t.Errorf("document %d changed though no edit touched it", i+1)
					}
				}
			})
		}
	}
}
