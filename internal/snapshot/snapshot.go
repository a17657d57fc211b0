// Package snapshot is the one input every check reads: the objects shipshape
// read from a live cluster or from files, where each came from, and what could
// not be read.
//
// A Snapshot is produced by internal/cluster or internal/manifest and judged by
// checks; it never fetches anything itself and never prints.
package snapshot

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Source says where a snapshot was read from.
type Source string

const (
	// SourceCluster is a live API server.
	SourceCluster Source = "cluster"
	// SourceFiles is manifest files, directories or stdin.
	SourceFiles Source = "files"
)

// Origin is where an object was read in a file. It is zero for live objects.
type Origin struct {
	// Path is the file as the user named it ("-" for stdin).
	Path string
	// Line is the 1-based line of the document's first key (0 when unknown).
	Line int
	// Document is the 0-based index of the YAML document in the file.
	Document int
	// Item is the 0-based index inside a `kind: List`, or -1 when the object is not a list item.
	Item int
}

// IsZero reports whether o carries no position.
func (o Origin) IsZero() bool { return o.Path == "" }

// String formats o as path:line, the form editors and CI annotations understand.
func (o Origin) String() string {
	if o.Line > 0 {
		return fmt.Sprintf("%s:%d", o.Path, o.Line)
	}
	return o.Path
}

// Object is one Kubernetes object with its origin.
type Object struct {
	*unstructured.Unstructured
	Origin Origin
}

// Invalid is a document that could not be read as an object: a syntax error,
// a duplicate key, a wrong field type, a template placeholder. Every other
// document of the same file is still read.
type Invalid struct {
	Origin Origin
	// Reason says what is wrong, without the position (Origin carries it).
	Reason string
}

// Gap is a part of the input that could not be read completely, such as a
// resource the caller may not list or an aggregated API whose backend is down.
// Any gap makes the snapshot partial.
type Gap struct {
	// Source names what was not read, e.g. "secrets" or "metrics.k8s.io/v1beta1".
	Source string
	// Reason says why, e.g. "forbidden: User \"ci\" cannot list resource ...".
	Reason string
}

// Resource is one served API resource found by discovery.
type Resource struct {
	Group      string
	Version    string
	Resource   string
	Kind       string
	Namespaced bool
	Verbs      []string
}

// GroupVersion returns "group/version", or "version" for the core group.
func (r Resource) GroupVersion() string {
	if r.Group == "" {
		return r.Version
	}
	return r.Group + "/" + r.Version
}

// Server describes the API server a live snapshot was read from.
type Server struct {
	// Host is the API server URL.
	Host string
	// Context is the kubeconfig context used, when known.
	Context string
	// Namespace is the one namespace whose namespaced objects were read, or
	// "" when all namespaces were.
	Namespace string
	// GitVersion is the server's version, e.g. "v1.37.2".
	GitVersion string
	Platform   string
}

// Snapshot is what was read.
type Snapshot struct {
	Source Source
	// Server is set for live snapshots.
	Server *Server
	// Resources lists what discovery found (live snapshots only), sorted.
	Resources []Resource
	// Objects are sorted by Sort.
	Objects []Object
	// Invalid documents, in the order found.
	Invalid []Invalid
	// Gaps make the snapshot partial.
	Gaps []Gap
}

// Partial reports whether part of the input could not be read.
func (s *Snapshot) Partial() bool { return len(s.Gaps) > 0 || len(s.Invalid) > 0 }

// Sort puts objects, invalid documents and gaps in a deterministic order:
// files by path and document, live objects by group, kind, namespace and name.
func (s *Snapshot) Sort() {
	sortObjects(s.Objects)
	sort.SliceStable(s.Invalid, func(i, j int) bool {
		return originLess(s.Invalid[i].Origin, s.Invalid[j].Origin)
	})
	sort.SliceStable(s.Gaps, func(i, j int) bool {
		if s.Gaps[i].Source != s.Gaps[j].Source {
			return s.Gaps[i].Source < s.Gaps[j].Source
		}
		return s.Gaps[i].Reason < s.Gaps[j].Reason
	})
	sort.SliceStable(s.Resources, func(i, j int) bool {
		a, b := s.Resources[i], s.Resources[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Resource < b.Resource
	})
}

func originLess(a, b Origin) bool {
	if a.Path != b.Path {
		return a.Path < b.Path
	}
	if a.Document != b.Document {
		return a.Document < b.Document
	}
	if a.Item != b.Item {
		return a.Item < b.Item
	}
	return a.Line < b.Line
}

// objectKey holds what objects sort by, computed once per object rather than
// once per comparison (a live snapshot holds tens of thousands).
type objectKey struct {
	origin                      Origin
	group, kind, ns, name, vers string
}

func keyOf(o Object) objectKey {
	gvk := o.GroupVersionKind()
	return objectKey{o.Origin, gvk.Group, gvk.Kind, o.GetNamespace(), o.GetName(), gvk.Version}
}

func sortObjects(objs []Object) {
	type keyed struct {
		key objectKey
		obj Object
	}
	ks := make([]keyed, len(objs))
	for i, o := range objs {
		ks[i] = keyed{keyOf(o), o}
	}
	sort.SliceStable(ks, func(i, j int) bool { return keyLess(ks[i].key, ks[j].key) })
	for i := range ks {
		objs[i] = ks[i].obj
	}
}

func keyLess(a, b objectKey) bool {
	if a.origin != b.origin {
		return originLess(a.origin, b.origin)
	}
	if a.group != b.group {
		return a.group < b.group
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	if a.ns != b.ns {
		return a.ns < b.ns
	}
	if a.name != b.name {
		return a.name < b.name
	}
	return a.vers < b.vers
}
