// Package restore puts desired objects (a backup tree or any manifest tree)
// back into a cluster: it orders them into phases so that what an object
// needs exists before it (CRDs before their custom resources, Services
// before the webhooks that call them), applies each phase with server-side
// apply and bounded concurrency, and reports per object whether it was
// created, updated, unchanged, refused because another field manager owns a
// differing field, or not served by the target at all.
//
// It judges and applies; it never prints and never reads files. Secret
// values never appear in what it returns: field changes under a Secret's
// data name the key only.
package restore

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Phase is a step of a restore; lower phases are applied first, and a phase
// is complete before the next starts.
type Phase int

// The phases, in order.
const (
	PhaseCRDs Phase = iota
	PhaseNamespaces
	PhaseClasses
	PhaseAccess
	PhaseConfig
	PhaseStorage
	PhaseServices
	PhaseWorkloads
	PhaseRoutes
	PhaseCustom
	PhaseAPIServices
	PhaseWebhooks
	numPhases
)

var phaseNames = [...]string{
	PhaseCRDs:        "CustomResourceDefinitions",
	PhaseNamespaces:  "Namespaces",
	PhaseClasses:     "cluster classes",
	PhaseAccess:      "RBAC, ServiceAccounts, quotas and policies",
	PhaseConfig:      "Secrets and ConfigMaps",
	PhaseStorage:     "PersistentVolumes and claims",
	PhaseServices:    "Services and Endpoints",
	PhaseWorkloads:   "workloads",
	PhaseRoutes:      "Ingresses and routes",
	PhaseCustom:      "other resources",
	PhaseAPIServices: "APIServices",
	PhaseWebhooks:    "webhook configurations",
}

func (p Phase) String() string {
	if p >= 0 && p < numPhases {
		return phaseNames[p]
	}
	return "unknown phase"
}

// phaseOfKind maps group/kind of built-in kinds (and the Gateway API) to a
// phase. Anything not listed is PhaseCustom.
var phaseOfKind = map[string]Phase{
	"apiextensions.k8s.io/CustomResourceDefinition": PhaseCRDs,

	"/Namespace": PhaseNamespaces,

	"storage.k8s.io/StorageClass":                             PhaseClasses,
	"storage.k8s.io/CSIDriver":                                PhaseClasses,
	"storage.k8s.io/VolumeAttributesClass":                    PhaseClasses,
	"scheduling.k8s.io/PriorityClass":                         PhaseClasses,
	"networking.k8s.io/IngressClass":                          PhaseClasses,
	"node.k8s.io/RuntimeClass":                                PhaseClasses,
	"gateway.networking.k8s.io/GatewayClass":                  PhaseClasses,
	"snapshot.storage.k8s.io/VolumeSnapshotClass":             PhaseClasses,
	"resource.k8s.io/DeviceClass":                             PhaseClasses,
	"flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration": PhaseClasses,
	"flowcontrol.apiserver.k8s.io/FlowSchema":                 PhaseClasses,

	"rbac.authorization.k8s.io/ClusterRole":                         PhaseAccess,
	"rbac.authorization.k8s.io/ClusterRoleBinding":                  PhaseAccess,
	"rbac.authorization.k8s.io/Role":                                PhaseAccess,
	"rbac.authorization.k8s.io/RoleBinding":                         PhaseAccess,
	"/ServiceAccount":                                               PhaseAccess,
	"/ResourceQuota":                                                PhaseAccess,
	"/LimitRange":                                                   PhaseAccess,
	"networking.k8s.io/NetworkPolicy":                               PhaseAccess,
	"admissionregistration.k8s.io/ValidatingAdmissionPolicy":        PhaseAccess,
	"admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding": PhaseAccess,
	"admissionregistration.k8s.io/MutatingAdmissionPolicy":          PhaseAccess,
	"admissionregistration.k8s.io/MutatingAdmissionPolicyBinding":   PhaseAccess,

	"/Secret":    PhaseConfig,
	"/ConfigMap": PhaseConfig,

	"/PersistentVolume":      PhaseStorage,
	"/PersistentVolumeClaim": PhaseStorage,

	"/Service":                       PhaseServices,
	"/Endpoints":                     PhaseServices,
	"discovery.k8s.io/EndpointSlice": PhaseServices,

	"/Pod":                                PhaseWorkloads,
	"/ReplicationController":              PhaseWorkloads,
	"/PodTemplate":                        PhaseWorkloads,
	"apps/Deployment":                     PhaseWorkloads,
	"apps/StatefulSet":                    PhaseWorkloads,
	"apps/DaemonSet":                      PhaseWorkloads,
	"apps/ReplicaSet":                     PhaseWorkloads,
	"batch/Job":                           PhaseWorkloads,
	"batch/CronJob":                       PhaseWorkloads,
	"policy/PodDisruptionBudget":          PhaseWorkloads,
	"autoscaling/HorizontalPodAutoscaler": PhaseWorkloads,

	"networking.k8s.io/Ingress":                PhaseRoutes,
	"gateway.networking.k8s.io/Gateway":        PhaseRoutes,
	"gateway.networking.k8s.io/HTTPRoute":      PhaseRoutes,
	"gateway.networking.k8s.io/GRPCRoute":      PhaseRoutes,
	"gateway.networking.k8s.io/TLSRoute":       PhaseRoutes,
	"gateway.networking.k8s.io/TCPRoute":       PhaseRoutes,
	"gateway.networking.k8s.io/UDPRoute":       PhaseRoutes,
	"gateway.networking.k8s.io/ReferenceGrant": PhaseRoutes,

	"apiregistration.k8s.io/APIService": PhaseAPIServices,

	"admissionregistration.k8s.io/MutatingWebhookConfiguration":   PhaseWebhooks,
	"admissionregistration.k8s.io/ValidatingWebhookConfiguration": PhaseWebhooks,
}

// PhaseOf returns the phase an object of kind gk is restored in.
func PhaseOf(gk schema.GroupKind) Phase {
	if p, ok := phaseOfKind[gk.Group+"/"+gk.Kind]; ok {
		return p
	}
	return PhaseCustom
}
