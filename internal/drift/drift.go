package drift

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Key identifies an object across API versions.
type Key struct {
	Group, Kind, Namespace, Name string
}

// KeyOf returns obj's key.
func KeyOf(obj *unstructured.Unstructured) Key {
	gvk := obj.GroupVersionKind()
	return Key{Group: gvk.Group, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

func (k Key) String() string {
	kind := k.Kind
	if k.Group != "" {
		kind += "." + k.Group
	}
	if k.Namespace != "" {
		return kind + " " + k.Namespace + "/" + k.Name
	}
	return kind + " " + k.Name
}

// Less orders keys by group, kind, namespace, name.
func (k Key) Less(o Key) bool {
	if k.Group != o.Group {
		return k.Group < o.Group
	}
	if k.Kind != o.Kind {
		return k.Kind < o.Kind
	}
	if k.Namespace != o.Namespace {
		return k.Namespace < o.Namespace
	}
	return k.Name < o.Name
}

// Entry is one object in a drift report.
type Entry struct {
	Key Key
	// Origin is where the desired object was read (zero for only-live ones).
	Origin snapshot.Origin
	// Changes are set for changed objects.
	Changes []Change
}

// Report is the drift between a desired tree and a live cluster, each list
// sorted by key.
type Report struct {
	OnlyTree []Entry
	OnlyLive []Entry
	Changed  []Entry
	// Same counts objects present on both sides without differences.
	Same int
	// Duplicates are desired objects given more than once; the first is used.
	Duplicates []Entry
}

// Clean reports whether nothing drifted.
func (r *Report) Clean() bool {
	return len(r.OnlyTree) == 0 && len(r.OnlyLive) == 0 && len(r.Changed) == 0
}

// Options tune Diff.
type Options struct {
	// Namespaced says whether a kind is namespaced; known is false for a
	// kind the server does not serve. Nil treats every object with a
	// namespace as namespaced.
	Namespaced func(gk schema.GroupKind) (namespaced, known bool)
	// DefaultNamespace is given to desired namespaced objects that name none.
	DefaultNamespace string
	// AllLive compares against every live object of the desired kinds; by
	// default, live namespaced objects count only in namespaces the desired
	// tree uses.
	AllLive bool
}

// Diff compares desired objects with live ones. Live objects of kinds the
// desired tree does not hold, and live objects Ignored names, are not
// reported as only-live.
func Diff(desired, live []snapshot.Object, o Options) *Report {
	r := &Report{}
	want := map[Key]snapshot.Object{}
	kinds := map[schema.GroupKind]bool{}
	namespaces := map[string]bool{}
	for _, d := range desired {
		obj := d.Unstructured
		gk := obj.GroupVersionKind().GroupKind()
		if obj.GetNamespace() == "" && o.Namespaced != nil {
			if nsd, _ := o.Namespaced(gk); nsd {
				obj = obj.DeepCopy()
				obj.SetNamespace(o.DefaultNamespace)
				d = snapshot.Object{Unstructured: obj, Origin: d.Origin}
			}
		}
		k := KeyOf(obj)
		if _, dup := want[k]; dup {
			r.Duplicates = append(r.Duplicates, Entry{Key: k, Origin: d.Origin})
			continue
		}
		want[k] = d
		kinds[gk] = true
		if ns := obj.GetNamespace(); ns != "" {
			namespaces[ns] = true
		}
	}
	// Endpoints of Services with a selector belong to the endpoints
	// controller.
	selectorServices := map[string]bool{}
	for _, l := range live {
		if l.GetKind() == "Service" && l.GroupVersionKind().Group == "" {
			if sel, _, _ := unstructured.NestedMap(l.Object, "spec", "selector"); len(sel) > 0 {
				selectorServices[l.GetNamespace()+"/"+l.GetName()] = true
			}
		}
	}
	have := map[Key]*unstructured.Unstructured{}
	for _, l := range live {
		k := KeyOf(l.Unstructured)
		if !kinds[schema.GroupKind{Group: k.Group, Kind: k.Kind}] {
			continue
		}
		if _, ok := want[k]; !ok {
			managedEndpoints := k.Group == "" && k.Kind == "Endpoints" && selectorServices[k.Namespace+"/"+k.Name]
			if managedEndpoints || Ignored(l.Unstructured) != "" || (k.Namespace != "" && !o.AllLive && !namespaces[k.Namespace]) {
				continue
			}
		}
		have[k] = l.Unstructured
	}
	for k, d := range want {
		l, ok := have[k]
		if !ok {
			r.OnlyTree = append(r.OnlyTree, Entry{Key: k, Origin: d.Origin})
			continue
		}
		if ch := Compare(d.Unstructured, l, Desired); len(ch) > 0 {
			r.Changed = append(r.Changed, Entry{Key: k, Origin: d.Origin, Changes: ch})
		} else {
			r.Same++
		}
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			r.OnlyLive = append(r.OnlyLive, Entry{Key: k})
		}
	}
	for _, l := range [][]Entry{r.OnlyTree, r.OnlyLive, r.Changed, r.Duplicates} {
		sort.Slice(l, func(i, j int) bool { return l[i].Key.Less(l[j].Key) })
	}
	return r
}

// Summary is one line of counts.
func (r *Report) Summary() string {
	return fmt.Sprintf("%d only in the tree, %d only live, %d changed, %d unchanged", len(r.OnlyTree), len(r.OnlyLive), len(r.Changed), r.Same)
}
