package backup

import (
	"encoding/json"
	"maps"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/drift"
)

// Rule is one named cleaning rule: an object it skips, or fields it strips.
type Rule struct {
	Name string
	Doc  string
	// Derived rules skip objects that --include-derived keeps.
	Derived bool
}

// Rules documents every rule that leaves objects out of a backup.
func Rules() []Rule {
	return []Rule{
		{Name: "controller-owned", Derived: true, Doc: "objects with a controller ownerReference (Pods of ReplicaSets, ReplicaSets of Deployments, Jobs of CronJobs...): their owner recreates them"},
		{Name: "controller-revision", Derived: true, Doc: "ControllerRevisions: history kept by the workload controllers"},
		{Name: "managed-endpoints", Derived: true, Doc: "Endpoints of Services with a selector, and EndpointSlices managed by the endpointslice controllers (Endpoints of selector-less Services are kept)"},
		{Name: "mirror-pod", Doc: "mirror Pods of static pods: the kubelet makes them from files on the node"},
		{Name: "ephemeral", Doc: "Events, Leases, ComponentStatuses, CertificateSigningRequests and metrics: not desired state"},
		{Name: "node-bound", Doc: "Nodes, CSINodes and VolumeAttachments (Nodes are described in inventory.yaml)"},
		{Name: "control-plane-default", Doc: "objects the control plane makes itself: kube-root-ca.crt ConfigMaps, default ServiceAccounts, the default/kube-system/kube-public/kube-node-lease Namespaces, Service default/kubernetes, ServiceCIDR kubernetes, bootstrap RBAC, automanaged APIServices, auto-updated flow-control objects, system- PriorityClasses, the API server's kube-system ConfigMaps (extension-apiserver-authentication, kube-apiserver-legacy-service-account-token-tracking), IPAddresses (the ClusterIP allocator's records) and the kube-apiserver-serving ClusterTrustBundles"},
		{Name: "excluded-secret", Doc: "Secrets (and Helm release ConfigMaps) with --exclude-secrets"},
		{Name: "duplicate", Doc: "the same object (same uid) served by a second API group"},
	}
}

// stripped fields, documented for docs/backup.md:
//   metadata: uid, resourceVersion, generation, creationTimestamp, deletionTimestamp,
//     deletionGracePeriodSeconds, selfLink, managedFields, ownerReferences
//     (recorded by name in the backup.shipshape.dev/owners annotation for
//     restore to link again), generateName (when name is set); status;
//   annotations kubectl.kubernetes.io/last-applied-configuration,
//     deployment.kubernetes.io/revision, pv.kubernetes.io/bind-completed,
//     pv.kubernetes.io/bound-by-controller, volume.kubernetes.io/selected-node,
//     volume.kubernetes.io/storage-provisioner, volume.beta.kubernetes.io/storage-provisioner;
//   Service clusterIP(s) and nodePorts/healthCheckNodePort no manager set;
//   Pod spec.nodeName; PVC spec.volumeName; PV spec.claimRef uid/resourceVersion;
//   service-account-token Secret data (the token controller refills it).

var strippedAnnotations = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
	"deployment.kubernetes.io/revision",
	"pv.kubernetes.io/bind-completed",
	"pv.kubernetes.io/bound-by-controller",
	"volume.kubernetes.io/selected-node",
	"volume.kubernetes.io/storage-provisioner",
	"volume.beta.kubernetes.io/storage-provisioner",
}

// apiserverConfigMaps are the kube-system ConfigMaps the API server keeps up to date itself.
var apiserverConfigMaps = map[string]bool{"extension-apiserver-authentication": true, "kube-apiserver-legacy-service-account-token-tracking": true}

var systemNamespaces = map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}

// skipReason returns the rule that leaves obj out of a backup, or "".
// selectorServices holds "ns/name" of Services with a selector.
func skipReason(obj *unstructured.Unstructured, includeDerived bool, selectorServices map[string]bool) string {
	group := obj.GroupVersionKind().Group
	kind := obj.GetKind()
	ns, name := obj.GetNamespace(), obj.GetName()

	switch {
	case kind == "Event" && (group == "" || group == "events.k8s.io"),
		kind == "Lease" && group == "coordination.k8s.io",
		kind == "ComponentStatus" && group == "",
		kind == "CertificateSigningRequest" && group == "certificates.k8s.io",
		group == "metrics.k8s.io",
		strings.HasSuffix(kind, "Review"):
		return "ephemeral"
	case group == "" && kind == "Node",
		group == "storage.k8s.io" && (kind == "CSINode" || kind == "VolumeAttachment"):
		return "node-bound"
	}
	if kind == "Pod" && group == "" {
		if _, ok := obj.GetAnnotations()["kubernetes.io/config.mirror"]; ok {
			return "mirror-pod"
		}
	}
	if controlPlaneDefault(obj, group, kind, ns, name) {
		return "control-plane-default"
	}
	if includeDerived {
		return ""
	}
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return "controller-owned"
		}
	}
	switch {
	case group == "apps" && kind == "ControllerRevision":
		return "controller-revision"
	case group == "" && kind == "Endpoints" && selectorServices[ns+"/"+name]:
		return "managed-endpoints"
	case group == "discovery.k8s.io" && kind == "EndpointSlice":
		switch obj.GetLabels()["endpointslice.kubernetes.io/managed-by"] {
		case "endpointslice-controller.k8s.io", "endpointslicemirroring-controller.k8s.io":
			return "managed-endpoints"
		}
	}
	return ""
}

func controlPlaneDefault(obj *unstructured.Unstructured, group, kind, ns, name string) bool {
	switch {
	case group == "" && kind == "ConfigMap" && name == "kube-root-ca.crt",
		group == "" && kind == "ServiceAccount" && name == "default",
		group == "" && kind == "Namespace" && systemNamespaces[name],
		group == "" && kind == "Service" && ns == "default" && name == "kubernetes",
		group == "networking.k8s.io" && kind == "ServiceCIDR" && name == "kubernetes",
		group == "scheduling.k8s.io" && kind == "PriorityClass" && strings.HasPrefix(name, "system-"),
		group == "" && kind == "ConfigMap" && ns == "kube-system" && apiserverConfigMaps[name],
		group == "networking.k8s.io" && kind == "IPAddress":
		return true
	case group == "certificates.k8s.io" && kind == "ClusterTrustBundle":
		signer, _, _ := unstructured.NestedString(obj.Object, "spec", "signerName")
		return signer == "kubernetes.io/kube-apiserver-serving"
	case group == "rbac.authorization.k8s.io":
		return obj.GetLabels()["kubernetes.io/bootstrapping"] == "rbac-defaults"
	case group == "apiregistration.k8s.io" && kind == "APIService":
		return obj.GetLabels()["kube-aggregator.kubernetes.io/automanaged"] != ""
	case group == "flowcontrol.apiserver.k8s.io":
		return obj.GetAnnotations()["apf.kubernetes.io/autoupdate-spec"] == "true"
	}
	return false
}

// clean returns a copy of obj without the fields that are not desired
// state. in is not changed. Only what clean or the writer changes is
// copied (the object and its metadata maps); kinds whose spec is edited
// are copied deeply.
func clean(in *unstructured.Unstructured) *unstructured.Unstructured {
	group := in.GroupVersionKind().Group
	kind := in.GetKind()
	var obj *unstructured.Unstructured
	var managed map[string]bool
	switch {
	case group == "" && (kind == "Service" || kind == "Pod" || kind == "PersistentVolumeClaim" || kind == "PersistentVolume"):
		obj = in.DeepCopy()
		managed = managedPaths(in)
	default:
		obj = &unstructured.Unstructured{Object: maps.Clone(in.Object)}
		if md, ok := in.Object["metadata"].(map[string]any); ok {
			c := maps.Clone(md)
			if ann, ok := md["annotations"].(map[string]any); ok {
				c["annotations"] = maps.Clone(ann)
			}
			obj.Object["metadata"] = c
		}
	}
	md, _ := obj.Object["metadata"].(map[string]any)
	if md != nil {
		for _, f := range drift.ServerMetadata {
			delete(md, f)
		}
		if name, _ := md["name"].(string); name != "" {
			delete(md, "generateName")
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			for _, a := range strippedAnnotations {
				delete(ann, a)
			}
			for k := range ann {
				// A live object carries them only when a backup tree was
				// applied by another tool: they describe that backup, not
				// this object. The owners annotation is made again below.
				if strings.HasPrefix(k, AnnotationPrefix) {
					delete(ann, k)
				}
			}
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		} else if v, ok := md["annotations"]; ok && v == nil {
			delete(md, "annotations")
		}
		if _, owners := drift.OwnersOf(in); owners != "" {
			ann, _ := md["annotations"].(map[string]any)
			if ann == nil {
				ann = map[string]any{}
				md["annotations"] = ann
			}
			ann[drift.OwnersAnnotation] = owners
		}
		if labels, ok := md["labels"].(map[string]any); ok && len(labels) == 0 || md["labels"] == nil {
			delete(md, "labels")
		}
	}
	delete(obj.Object, "status")

	switch {
	case group == "" && kind == "Service":
		cleanService(obj, managed)
	case group == "" && kind == "Pod":
		unstructured.RemoveNestedField(obj.Object, "spec", "nodeName")
	case group == "" && kind == "PersistentVolumeClaim":
		unstructured.RemoveNestedField(obj.Object, "spec", "volumeName")
	case group == "" && kind == "PersistentVolume":
		unstructured.RemoveNestedField(obj.Object, "spec", "claimRef", "uid")
		unstructured.RemoveNestedField(obj.Object, "spec", "claimRef", "resourceVersion")
	case group == "" && kind == "Secret":
		if t, _ := obj.Object["type"].(string); t == "kubernetes.io/service-account-token" {
			delete(obj.Object, "data")
		}
	}
	return obj
}

// cleanService drops the addresses and ports the API server allocated:
// those no field manager claims.
func cleanService(obj *unstructured.Unstructured, managed map[string]bool) {
	if ip, _, _ := unstructured.NestedString(obj.Object, "spec", "clusterIP"); ip != "None" && !managed["spec.clusterIP"] {
		unstructured.RemoveNestedField(obj.Object, "spec", "clusterIP")
		unstructured.RemoveNestedField(obj.Object, "spec", "clusterIPs")
	}
	if !managed["spec.healthCheckNodePort"] {
		unstructured.RemoveNestedField(obj.Object, "spec", "healthCheckNodePort")
	}
	ports, ok, _ := unstructured.NestedSlice(obj.Object, "spec", "ports")
	if !ok {
		return
	}
	for i, p := range ports {
		pm, ok := p.(map[string]any)
		if !ok {
			continue
		}
		proto, _ := pm["protocol"].(string)
		if proto == "" {
			proto = "TCP"
		}
		if !managed[portKey(pm["port"], proto)+".nodePort"] {
			delete(pm, "nodePort")
		}
		ports[i] = pm
	}
	_ = unstructured.SetNestedSlice(obj.Object, ports, "spec", "ports")
}

func portKey(port any, proto string) string {
	var n int64
	switch v := port.(type) {
	case int64:
		n = v
	case float64:
		n = int64(v)
	case int:
		n = int64(v)
	}
	b, _ := json.Marshal(struct {
		Port     int64  `json:"port"`
		Protocol string `json:"protocol"`
	}{n, proto})
	return "spec.ports." + string(b)
}

// managedPaths lists the Service fields some manager claims in managedFields:
// "spec.clusterIP", "spec.healthCheckNodePort" and
// `spec.ports.{"port":80,"protocol":"TCP"}.nodePort`.
func managedPaths(obj *unstructured.Unstructured) map[string]bool {
	out := map[string]bool{}
	if obj.GetKind() != "Service" {
		return out
	}
	for _, mf := range obj.GetManagedFields() {
		if mf.FieldsV1 == nil {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields) != nil {
			continue
		}
		spec, _ := fields["f:spec"].(map[string]any)
		for _, f := range []string{"clusterIP", "healthCheckNodePort"} {
			if _, ok := spec["f:"+f]; ok {
				out["spec."+f] = true
			}
		}
		ports, _ := spec["f:ports"].(map[string]any)
		for k, v := range ports {
			if !strings.HasPrefix(k, "k:") {
				continue
			}
			var key struct {
				Port     int64  `json:"port"`
				Protocol string `json:"protocol"`
			}
			if json.Unmarshal([]byte(k[2:]), &key) != nil {
				continue
			}
			if vm, ok := v.(map[string]any); ok {
				if _, ok := vm["f:nodePort"]; ok {
					out[portKey(key.Port, key.Protocol)+".nodePort"] = true
				}
			}
		}
	}
	return out
}

// Unlisted are the resources a backup never needs to read: every object of
// them is skipped by the ephemeral rule. Pass them as
// cluster.SnapshotOptions.Exclude.
func Unlisted() []schema.GroupResource {
	return []schema.GroupResource{
		{Group: "", Resource: "events"},
		{Group: "events.k8s.io", Resource: "events"},
		{Group: "coordination.k8s.io", Resource: "leases"},
		{Group: "", Resource: "componentstatuses"},
	}
}
