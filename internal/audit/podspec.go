package audit

import (
	"slices"
	"strconv"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// podSpecPaths says where each pod-bearing kind keeps its pod spec.
var podSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

// layout is podSpecPaths prepared for lookups: the pod spec's path, the
// path of the pods' metadata and the spec's dotted field name.
type layout struct {
	spec, meta []string
	field      string
}

// layouts are built by a function, not at package initialisation, and are
// small enough to build per check run.
func layouts() map[string]layout {
	out := make(map[string]layout, len(podSpecPaths))
	for kind, p := range podSpecPaths {
		meta := []string{"metadata"}
		if kind != "Pod" {
			meta = append(slices.Clone(p[:len(p)-1]), "metadata")
		}
		out[kind] = layout{spec: p, meta: meta, field: strings.Join(p, ".")}
	}
	return out
}

// workload is one object that creates pods, read straight from its
// unstructured map (no conversion to typed structs: checks run over tens of
// thousands of objects).
type workload struct {
	obj  snapshot.Object
	kind string
	// field is the path of the pod spec, e.g. "spec.template.spec".
	field string
	spec  map[string]any
	// podMeta is the metadata of the pods (the object's own for a Pod).
	podMeta map[string]any
	// podSC is the pod-level securityContext, or nil.
	podSC map[string]any
}

// container is one container of a workload.
type container struct {
	name string
	// role is "container", "init container" or "ephemeral container".
	role string
	// field is the path of the container, e.g. "spec.template.spec.containers[0]".
	field fieldPath
	m     map[string]any
	// sc is the container's securityContext, or nil.
	sc map[string]any
}

func workloadIn(o snapshot.Object, ls map[string]layout) (workload, bool) {
	if o.Unstructured == nil {
		return workload{}, false
	}
	kind, _ := o.Object["kind"].(string)
	l, ok := ls[kind]
	if !ok {
		return workload{}, false
	}
	spec := mapAt(o.Object, l.spec...)
	if spec == nil {
		return workload{}, false
	}
	return workload{obj: o, kind: kind, field: l.field, spec: spec, podMeta: mapAt(o.Object, l.meta...), podSC: mapAt(spec, "securityContext")}, true
}

// containers returns the workload's init, regular and ephemeral containers.
func (w workload) containers() []container {
	var out []container
	for _, g := range []struct{ key, role string }{
		{"initContainers", "init container"},
		{"containers", "container"},
		{"ephemeralContainers", "ephemeral container"},
	} {
		list, _ := w.spec[g.key].([]any)
		for i, c := range list {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			name, _ := m["name"].(string)
			out = append(out, container{
				name:  name,
				role:  g.role,
				field: fieldPath{w.field, g.key, i},
				m:     m,
				sc:    mapAt(m, "securityContext"),
			})
		}
	}
	return out
}

// fieldPath is a container's path, formatted only when a finding needs it.
type fieldPath struct {
	spec, group string
	index       int
}

func (f fieldPath) String() string {
	return f.spec + "." + f.group + "[" + strconv.Itoa(f.index) + "]"
}

// label names the container for messages: `container "web"`.
func (c container) label() string { return c.role + " " + strconv.Quote(c.name) }

// mapAt walks nested maps and returns the map at the path, or nil.
func mapAt(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		if m == nil {
			return nil
		}
		m, _ = m[p].(map[string]any)
	}
	return m
}

// boolField returns a bool field and whether it is set.
func boolField(m map[string]any, key string) (value, set bool) {
	if m == nil {
		return false, false
	}
	b, ok := m[key].(bool)
	return b, ok
}

// intField returns an integer field and whether it is set.
func intField(m map[string]any, key string) (int64, bool) {
	if m == nil {
		return 0, false
	}
	switch v := m[key].(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case float64:
		return int64(v), true
	}
	return 0, false
}

// stringField returns a string field, "" when unset.
func stringField(m map[string]any, key string) string {
	if m == nil {
		return ""
	}
	s, _ := m[key].(string)
	return s
}

// strings returns a list of strings, skipping anything else.
func stringList(m map[string]any, key string) []string {
	if m == nil {
		return nil
	}
	list, _ := m[key].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// effectiveBool returns the container's value of a securityContext field,
// falling back to the pod's, and where it came from ("" when unset).
func (w workload) effectiveBool(c container, key string) (value bool, from string) {
	if v, ok := boolField(c.sc, key); ok {
		return v, c.field.String() + ".securityContext." + key
	}
	if v, ok := boolField(w.podSC, key); ok {
		return v, w.field + ".securityContext." + key
	}
	return false, ""
}

// effectiveInt is effectiveBool for integer fields.
func (w workload) effectiveInt(c container, key string) (value int64, from string) {
	if v, ok := intField(c.sc, key); ok {
		return v, c.field.String() + ".securityContext." + key
	}
	if v, ok := intField(w.podSC, key); ok {
		return v, w.field + ".securityContext." + key
	}
	return 0, ""
}

// effectiveMap is effectiveBool for nested objects such as seccompProfile.
func (w workload) effectiveMap(c container, key string) (value map[string]any, from string) {
	if v := mapAt(c.sc, key); v != nil {
		return v, c.field.String() + ".securityContext." + key
	}
	if v := mapAt(w.podSC, key); v != nil {
		return v, w.field + ".securityContext." + key
	}
	return nil, ""
}

// windows reports whether the pod targets Windows nodes, where the Linux
// securityContext fields do not apply.
func (w workload) windows() bool {
	return stringField(mapAt(w.spec, "os"), "name") == "windows"
}

// PodSpecPath returns the path of the pod spec in an object of a
// pod-bearing kind (e.g. spec, template, spec for a Deployment), or nil for
// other kinds.
func PodSpecPath(kind string) []string {
	return slices.Clone(podSpecPaths[kind])
}
