package backup

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ref is an object a pod template needs: a Secret, ConfigMap,
// ServiceAccount, PersistentVolumeClaim or PriorityClass.
type ref struct {
	Kind      string
	Namespace string // "" for PriorityClass
	Name      string
	// Where says which field refers to it.
	Where string
}

func (r ref) key() string { return r.Kind + "/" + r.Namespace + "/" + r.Name }

// podSpecPath is where each workload kind keeps its pod spec.
func podSpecPath(group, kind string) []string {
	switch {
	case group == "" && kind == "Pod":
		return []string{"spec"}
	case group == "apps" && (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet"),
		group == "" && kind == "ReplicationController", group == "batch" && kind == "Job":
		return []string{"spec", "template", "spec"}
	case group == "batch" && kind == "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	return nil
}

// podRefs lists the non-optional objects obj's pod template refers to.
// Refs to objects the control plane makes (default ServiceAccount,
// kube-root-ca.crt, system- PriorityClasses) are left out.
func podRefs(obj *unstructured.Unstructured) []ref {
	p := podSpecPath(obj.GroupVersionKind().Group, obj.GetKind())
	if p == nil {
		return nil
	}
	spec, ok, _ := unstructured.NestedMap(obj.Object, p...)
	if !ok {
		return nil
	}
	ns := obj.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	var out []ref
	add := func(kind, name, where string) {
		switch {
		case name == "",
			kind == "ServiceAccount" && name == "default",
			kind == "ConfigMap" && name == "kube-root-ca.crt":
			return
		}
		n := ns
		if kind == "PriorityClass" {
			if len(name) > 7 && name[:7] == "system-" {
				return
			}
			n = ""
		}
		out = append(out, ref{kind, n, name, where})
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	optional := func(m map[string]any) bool { b, _ := m["optional"].(bool); return b }

	sa := str(spec, "serviceAccountName")
	if sa == "" {
		sa = str(spec, "serviceAccount")
	}
	add("ServiceAccount", sa, "serviceAccountName")
	add("PriorityClass", str(spec, "priorityClassName"), "priorityClassName")
	for i, s := range slice(spec["imagePullSecrets"]) {
		add("Secret", str(s, "name"), fmt.Sprintf("imagePullSecrets[%d]", i))
	}
	for _, v := range slice(spec["volumes"]) {
		vn := str(v, "name")
		if s, ok := v["secret"].(map[string]any); ok && !optional(s) {
			add("Secret", str(s, "secretName"), "volume "+vn)
		}
		if c, ok := v["configMap"].(map[string]any); ok && !optional(c) {
			add("ConfigMap", str(c, "name"), "volume "+vn)
		}
		if c, ok := v["persistentVolumeClaim"].(map[string]any); ok {
			add("PersistentVolumeClaim", str(c, "claimName"), "volume "+vn)
		}
		if pr, ok := v["projected"].(map[string]any); ok {
			for _, src := range slice(pr["sources"]) {
				if s, ok := src["secret"].(map[string]any); ok && !optional(s) {
					add("Secret", str(s, "name"), "volume "+vn)
				}
				if c, ok := src["configMap"].(map[string]any); ok && !optional(c) {
					add("ConfigMap", str(c, "name"), "volume "+vn)
				}
			}
		}
	}
	for _, field := range []string{"initContainers", "containers", "ephemeralContainers"} {
		for _, c := range slice(spec[field]) {
			cn := "container " + str(c, "name")
			for _, e := range slice(c["envFrom"]) {
				if s, ok := e["secretRef"].(map[string]any); ok && !optional(s) {
					add("Secret", str(s, "name"), cn+" envFrom")
				}
				if s, ok := e["configMapRef"].(map[string]any); ok && !optional(s) {
					add("ConfigMap", str(s, "name"), cn+" envFrom")
				}
			}
			for _, e := range slice(c["env"]) {
				vf, _ := e["valueFrom"].(map[string]any)
				if s, ok := vf["secretKeyRef"].(map[string]any); ok && !optional(s) {
					add("Secret", str(s, "name"), cn+" env "+str(e, "name"))
				}
				if s, ok := vf["configMapKeyRef"].(map[string]any); ok && !optional(s) {
					add("ConfigMap", str(s, "name"), cn+" env "+str(e, "name"))
				}
			}
		}
	}
	return out
}

func slice(v any) []map[string]any {
	xs, _ := v.([]any)
	out := make([]map[string]any, 0, len(xs))
	for _, x := range xs {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
