package audit

import (
	"k8s.io/apimachinery/pkg/labels"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// auditContext holds what checks look up across objects: ServiceAccounts,
// LimitRange defaults and PodDisruptionBudgets. Each index is built on first
// use, once per check run.
type auditContext struct {
	s *snapshot.Snapshot

	sas     map[nsName]map[string]any
	ranges  map[string][]map[string]any
	pdbs    map[string][]labels.Selector
	indexed bool
}

type nsName struct{ ns, name string }

func newAuditContext(s *snapshot.Snapshot) *auditContext { return &auditContext{s: s} }

func (a *auditContext) index() {
	if a.indexed {
		return
	}
	a.indexed = true
	a.sas = map[nsName]map[string]any{}
	a.ranges = map[string][]map[string]any{}
	a.pdbs = map[string][]labels.Selector{}
	for _, o := range a.s.Objects {
		if o.Unstructured == nil {
			continue
		}
		kind, _ := o.Object["kind"].(string)
		switch kind {
		case "ServiceAccount":
			a.sas[nsName{o.GetNamespace(), o.GetName()}] = o.Object
		case "LimitRange":
			limits, _ := mapAt(o.Object, "spec")["limits"].([]any)
			for _, l := range limits {
				if m, ok := l.(map[string]any); ok && stringField(m, "type") == "Container" {
					a.ranges[o.GetNamespace()] = append(a.ranges[o.GetNamespace()], m)
				}
			}
		case "PodDisruptionBudget":
			if sel := selectorOf(mapAt(o.Object, "spec", "selector")); sel != nil {
				a.pdbs[o.GetNamespace()] = append(a.pdbs[o.GetNamespace()], sel)
			}
		}
	}
}

// serviceAccount returns the ServiceAccount object, or nil when the snapshot
// does not hold it.
func (a *auditContext) serviceAccount(ns, name string) map[string]any {
	a.index()
	return a.sas[nsName{ns, name}]
}

// limitRangeDefault reports whether a LimitRange in the namespace gives
// containers a default for the resource: section is "defaultRequest" or "default".
func (a *auditContext) limitRangeDefault(ns, section, resource string) bool {
	a.index()
	for _, m := range a.ranges[ns] {
		if _, ok := mapAt(m, section)[resource]; ok {
			return true
		}
	}
	return false
}

// disruptionBudgetFor reports whether a PodDisruptionBudget in the namespace
// selects pods with these labels.
func (a *auditContext) disruptionBudgetFor(ns string, podLabels map[string]string) bool {
	a.index()
	set := labels.Set(podLabels)
	for _, sel := range a.pdbs[ns] {
		if !sel.Empty() && sel.Matches(set) {
			return true
		}
	}
	return false
}

// selectorOf converts an unstructured label selector; nil when it is
// missing or malformed. PodDisruptionBudgets are few, so the conversion cost
// does not matter.
func selectorOf(m map[string]any) labels.Selector {
	if m == nil {
		return nil
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &ls); err != nil {
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return nil
	}
	return sel
}

// stringMap reads a map of strings such as labels.
func stringMap(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}
