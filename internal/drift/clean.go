// Package drift compares desired objects (a backup, any manifest tree, a git
// checkout) with live ones and says, field by field, what differs, leaving
// out what the API server fills in itself: status, managedFields,
// resourceVersion, uid, timestamps, allocated cluster IPs, defaulted fields
// the desired object does not mention, and objects the control plane makes.
//
// It is pure logic over objects: it never talks to an API server and never
// prints. Secret values never leave it: a change under a Secret's data is
// reported by key only.
package drift

import (
	"encoding/base64"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// BackupAnnotationPrefix marks annotations a backup adds for itself; they
// are not desired state and restore strips them.
const BackupAnnotationPrefix = "backup.shipshape.dev/"

// ServerMetadata are the metadata fields the server sets (ownerReferences
// among them: they name owners by UID, which a restored owner does not
// keep).
var ServerMetadata = []string{
	"uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
	"deletionGracePeriodSeconds", "selfLink", "managedFields", "ownerReferences",
}

// noiseAnnotations are annotations controllers and clients write.
var noiseAnnotations = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
	"deployment.kubernetes.io/revision",
	"pv.kubernetes.io/bind-completed",
	"pv.kubernetes.io/bound-by-controller",
	"pv.kubernetes.io/provisioned-by",
	"volume.kubernetes.io/selected-node",
	"volume.beta.kubernetes.io/storage-provisioner",
	"volume.kubernetes.io/storage-provisioner",
	"endpoints.kubernetes.io/last-change-trigger-time",
}

// Clean returns a copy of obj without the fields that are not desired
// state: server-set metadata, status, client and controller annotations,
// shipshape's backup annotations, allocated Service cluster IPs, a Pod's
// node, a bound PVC's volume name. A Secret's stringData is folded into
// data, as the server does. obj is not changed.
func Clean(obj *unstructured.Unstructured) *unstructured.Unstructured {
	c := obj.DeepCopy()
	md, _ := c.Object["metadata"].(map[string]any)
	if md != nil {
		for _, f := range ServerMetadata {
			delete(md, f)
		}
		if name, _ := md["name"].(string); name != "" {
			delete(md, "generateName")
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			for _, a := range noiseAnnotations {
				delete(ann, a)
			}
			for k := range ann {
				if strings.HasPrefix(k, BackupAnnotationPrefix) {
					delete(ann, k)
				}
			}
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
		if l, ok := md["labels"].(map[string]any); ok && len(l) == 0 {
			delete(md, "labels")
		}
	}
	delete(c.Object, "status")

	group := c.GroupVersionKind().Group
	switch {
	case group == "" && c.GetKind() == "Service":
		if ip, _, _ := unstructured.NestedString(c.Object, "spec", "clusterIP"); ip != "None" {
			unstructured.RemoveNestedField(c.Object, "spec", "clusterIP")
			unstructured.RemoveNestedField(c.Object, "spec", "clusterIPs")
		}
	case group == "" && c.GetKind() == "Pod":
		unstructured.RemoveNestedField(c.Object, "spec", "nodeName")
	case group == "" && c.GetKind() == "PersistentVolumeClaim":
		unstructured.RemoveNestedField(c.Object, "spec", "volumeName")
	case group == "" && c.GetKind() == "PersistentVolume":
		unstructured.RemoveNestedField(c.Object, "spec", "claimRef", "uid")
		unstructured.RemoveNestedField(c.Object, "spec", "claimRef", "resourceVersion")
	case group == "" && c.GetKind() == "Secret":
		foldStringData(c)
	case group == "" && c.GetKind() == "Namespace":
		// The API server labels every namespace with its own name.
		if l := c.GetLabels(); l["kubernetes.io/metadata.name"] == c.GetName() {
			unstructured.RemoveNestedField(c.Object, "metadata", "labels", "kubernetes.io/metadata.name")
			if len(l) == 1 {
				unstructured.RemoveNestedField(c.Object, "metadata", "labels")
			}
		}
	}
	return c
}

// foldStringData moves stringData into data (base64), as the API server
// does on write.
func foldStringData(s *unstructured.Unstructured) {
	sd, ok := s.Object["stringData"].(map[string]any)
	delete(s.Object, "stringData")
	if !ok || len(sd) == 0 {
		return
	}
	data, _ := s.Object["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		str, _ := v.(string)
		data[k] = base64.StdEncoding.EncodeToString([]byte(str))
	}
	s.Object["data"] = data
}

// apiserverConfigMaps are the kube-system ConfigMaps the API server keeps.
var apiserverConfigMaps = map[string]bool{
	"extension-apiserver-authentication":                   true,
	"kube-apiserver-legacy-service-account-token-tracking": true,
}

// Ignored says why a live object is not compared, or "" when it is: it is
// made and kept by the control plane or a controller, so it is not in any
// desired tree.
func Ignored(obj *unstructured.Unstructured) string {
	for _, o := range obj.GetOwnerReferences() {
		if o.Controller != nil && *o.Controller {
			return "owned by controller " + o.Kind + " " + o.Name
		}
	}
	gvk := obj.GroupVersionKind()
	name, ns := obj.GetName(), obj.GetNamespace()
	labels, ann := obj.GetLabels(), obj.GetAnnotations()
	switch gvk.Group + "/" + gvk.Kind {
	case "/Event", "events.k8s.io/Event", "coordination.k8s.io/Lease", "/Node", "storage.k8s.io/CSINode",
		"storage.k8s.io/VolumeAttachment", "certificates.k8s.io/CertificateSigningRequest",
		"apps/ControllerRevision", "/ComponentStatus":
		return "ephemeral or node-bound"
	case "/ConfigMap":
		if name == "kube-root-ca.crt" || (ns == "kube-system" && apiserverConfigMaps[name]) {
			return "made by the control plane"
		}
	case "certificates.k8s.io/ClusterTrustBundle":
		if strings.HasPrefix(name, "kube-apiserver-serving") {
			return "made by the control plane"
		}
	case "/ServiceAccount":
		if name == "default" {
			return "made by the control plane"
		}
	case "/Secret":
		if t, _, _ := unstructured.NestedString(obj.Object, "type"); t == "kubernetes.io/service-account-token" {
			return "service account token"
		}
	case "/Namespace":
		switch name {
		case "default", "kube-system", "kube-public", "kube-node-lease":
			return "made by the control plane"
		}
	case "/Service":
		if ns == "default" && name == "kubernetes" {
			return "made by the control plane"
		}
	case "/Endpoints", "discovery.k8s.io/EndpointSlice":
		if ns == "default" && (name == "kubernetes" || labels["kubernetes.io/service-name"] == "kubernetes") {
			return "made by the control plane"
		}
		if labels["endpointslice.kubernetes.io/managed-by"] != "" {
			return "made by the endpoint slice controller"
		}
	case "networking.k8s.io/ServiceCIDR", "networking.k8s.io/IPAddress":
		return "made by the control plane"
	case "rbac.authorization.k8s.io/ClusterRole", "rbac.authorization.k8s.io/ClusterRoleBinding",
		"rbac.authorization.k8s.io/Role", "rbac.authorization.k8s.io/RoleBinding":
		if labels["kubernetes.io/bootstrapping"] == "rbac-defaults" {
			return "made by the control plane"
		}
	case "apiregistration.k8s.io/APIService":
		if labels["kube-aggregator.kubernetes.io/automanaged"] != "" {
			return "made by the control plane"
		}
	case "flowcontrol.apiserver.k8s.io/FlowSchema", "flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration":
		if ann["apf.kubernetes.io/autoupdate-spec"] == "true" {
			return "made by the control plane"
		}
	case "scheduling.k8s.io/PriorityClass":
		if strings.HasPrefix(name, "system-") {
			return "made by the control plane"
		}
	}
	return ""
}
