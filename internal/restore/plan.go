package restore

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/drift"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// crdDef is what a CustomResourceDefinition in the restore defines.
type crdDef struct {
	namespaced bool
	versions   map[string]bool
}

// crdDefinitions reads the kinds the CRDs among objects define.
func crdDefinitions(objects []snapshot.Object) map[schema.GroupKind]crdDef {
	defs := map[schema.GroupKind]crdDef{}
	for _, o := range objects {
		gvk := o.GroupVersionKind()
		if gvk.Group != "apiextensions.k8s.io" || gvk.Kind != "CustomResourceDefinition" {
			continue
		}
		gk := crdGroupKind(o.Unstructured)
		scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
		vs, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
		d := crdDef{namespaced: scope == "Namespaced", versions: map[string]bool{}}
		for _, v := range vs {
			m, _ := v.(map[string]any)
			name, _ := m["name"].(string)
			if served, _ := m["served"].(bool); served && name != "" {
				d.versions[name] = true
			}
		}
		if gk.Group != "" && gk.Kind != "" {
			defs[gk] = d
		}
	}
	return defs
}

// crdGroupKind is the group and kind a CustomResourceDefinition defines.
func crdGroupKind(crd *unstructured.Unstructured) schema.GroupKind {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	return schema.GroupKind{Group: group, Kind: kind}
}

// kindFilter matches --kinds names: Kind or Kind.group, case-insensitive.
func kindFilter(names []string) func(schema.GroupKind) bool {
	if len(names) == 0 {
		return func(schema.GroupKind) bool { return true }
	}
	want := map[string]bool{}
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			want[strings.ToLower(n)] = true
		}
	}
	return func(gk schema.GroupKind) bool {
		k := strings.ToLower(gk.Kind)
		return want[k] || (gk.Group != "" && want[k+"."+strings.ToLower(gk.Group)])
	}
}

// makePlan cleans and classifies every object. Objects left out by the
// filters are dropped; unserved and duplicate objects get their final
// action here, before anything is applied.
func makePlan(t Target, objects []snapshot.Object, o Options) ([]*planned, error) {
	defaultNS := o.DefaultNamespace
	if defaultNS == "" {
		defaultNS = metav1.NamespaceDefault
	}
	defs := crdDefinitions(objects)
	kindOK := kindFilter(o.Kinds)
	nsOK := func(string) bool { return true }
	if len(o.Namespaces) > 0 {
		set := map[string]bool{}
		for _, n := range o.Namespaces {
			set[n] = true
		}
		nsOK = func(n string) bool { return set[n] }
	}
	seen := map[drift.Key]snapshot.Origin{}
	var plan []*planned
	for _, so := range objects {
		if so.Unstructured == nil {
			continue
		}
		gvk := so.GroupVersionKind()
		gk := gvk.GroupKind()
		if !kindOK(gk) {
			continue
		}
		obj := drift.Clean(so.Unstructured)
		p := &planned{obj: obj, item: Item{Origin: so.Origin, Phase: PhaseOf(gk)}}
		if owners, err := drift.RecordedOwners(so.Unstructured); err != nil {
			p.item.Detail = err.Error() + ": restored without owner references"
		} else {
			p.owners = owners
		}
		if obj.GetName() == "" {
			p.item.Key = drift.KeyOf(obj)
			p.item.Action = Failed
			p.item.Detail = "object has no metadata.name"
			plan = append(plan, p)
			continue
		}

		namespaced := obj.GetNamespace() != ""
		m, err := t.Mapping(gvk)
		switch {
		case err == nil:
			namespaced = m.Scope.Name() == meta.RESTScopeNameNamespace
		case errors.Is(err, cluster.ErrNotServed):
			if d, ok := defs[gk]; ok && d.versions[gvk.Version] {
				p.crd = true
				namespaced = d.namespaced
			} else {
				p.item.Action = Unserved
				p.item.Detail = unservedDetail(gvk, defs)
			}
		default:
			p.item.Action = Failed
			p.item.Detail = err.Error()
		}
		switch {
		case namespaced && obj.GetNamespace() == "":
			obj.SetNamespace(defaultNS)
		case !namespaced && obj.GetNamespace() != "" && p.item.Action == "":
			obj.SetNamespace("")
		}
		p.item.Key = drift.KeyOf(obj)
		if len(o.Namespaces) > 0 {
			switch {
			case namespaced && !nsOK(obj.GetNamespace()):
				continue
			case !namespaced && !(gk == schema.GroupKind{Kind: "Namespace"} && nsOK(obj.GetName())):
				continue
			}
		}
		if first, dup := seen[p.item.Key]; dup {
			p.item.Action = Failed
			p.item.Detail = "given twice; the copy at " + first.String() + " is used"
		} else {
			seen[p.item.Key] = so.Origin
		}
		plan = append(plan, p)
	}
	return plan, nil
}

func unservedDetail(gvk schema.GroupVersionKind, defs map[schema.GroupKind]crdDef) string {
	gv := gvk.GroupVersion().String()
	if _, ok := defs[gvk.GroupKind()]; ok {
		return fmt.Sprintf("%s %s: the CRD in this restore does not serve version %s", gv, gvk.Kind, gvk.Version)
	}
	return fmt.Sprintf("%s %s is not served by the target API server", gv, gvk.Kind)
}
