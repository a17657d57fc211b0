package apigen

// handAPIs are the APIs the markers do not describe: kinds removed before
// k8s.io/api carried prerelease-lifecycle markers, alpha packages that never
// had them, and the API groups that live outside k8s.io/api (CRDs in
// apiextensions-apiserver, APIServices in kube-aggregator). A generated row
// for the same apiVersion and kind wins over a hand-kept one.
var handAPIs = []API{
	{APIVersion: "extensions/v1beta1", Kind: "ThirdPartyResource", Introduced: "1.2", Deprecated: "1.7", Removed: "1.8",
		Replacement: "apiextensions.k8s.io/v1 CustomResourceDefinition"},
	{APIVersion: "settings.k8s.io/v1alpha1", Kind: "PodPreset", Introduced: "1.6", Removed: "1.20"},
	{APIVersion: "batch/v2alpha1", Kind: "CronJob", Introduced: "1.5", Deprecated: "1.8", Removed: "1.21",
		Replacement: "batch/v1 CronJob"},
	{APIVersion: "scheduling.k8s.io/v1alpha1", Kind: "PriorityClass", Introduced: "1.8", Deprecated: "1.14", Removed: "1.17",
		Replacement: "scheduling.k8s.io/v1 PriorityClass"},
	{APIVersion: "rbac.authorization.k8s.io/v1alpha1", Kind: "ClusterRole", Introduced: "1.6", Deprecated: "1.17", Removed: "1.22",
		Replacement: "rbac.authorization.k8s.io/v1 ClusterRole"},
	{APIVersion: "rbac.authorization.k8s.io/v1alpha1", Kind: "ClusterRoleBinding", Introduced: "1.6", Deprecated: "1.17", Removed: "1.22",
		Replacement: "rbac.authorization.k8s.io/v1 ClusterRoleBinding"},
	{APIVersion: "rbac.authorization.k8s.io/v1alpha1", Kind: "Role", Introduced: "1.6", Deprecated: "1.17", Removed: "1.22",
		Replacement: "rbac.authorization.k8s.io/v1 Role"},
	{APIVersion: "rbac.authorization.k8s.io/v1alpha1", Kind: "RoleBinding", Introduced: "1.6", Deprecated: "1.17", Removed: "1.22",
		Replacement: "rbac.authorization.k8s.io/v1 RoleBinding"},
	{APIVersion: "apiextensions.k8s.io/v1beta1", Kind: "CustomResourceDefinition", Introduced: "1.7", Deprecated: "1.16", Removed: "1.22",
		Replacement: "apiextensions.k8s.io/v1 CustomResourceDefinition"},
	{APIVersion: "apiextensions.k8s.io/v1beta1", Kind: "ConversionReview", Introduced: "1.13", Deprecated: "1.19", Removed: "1.22",
		Replacement: "apiextensions.k8s.io/v1 ConversionReview"},
	{APIVersion: "apiregistration.k8s.io/v1beta1", Kind: "APIService", Introduced: "1.7", Deprecated: "1.19", Removed: "1.22",
		Replacement: "apiregistration.k8s.io/v1 APIService"},
}

// handReplacements fill in the replacement of generated rows whose markers
// name none ("apiVersion kind" → "apiVersion kind"). Each names the stable
// (or next) version that serves the same kind.
var handReplacements = map[string]string{
	"events.k8s.io/v1beta1 Event":                                            "events.k8s.io/v1 Event",
	"node.k8s.io/v1beta1 RuntimeClass":                                       "node.k8s.io/v1 RuntimeClass",
	"admissionregistration.k8s.io/v1alpha1 ValidatingAdmissionPolicy":        "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy",
	"admissionregistration.k8s.io/v1alpha1 ValidatingAdmissionPolicyBinding": "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding",
	"admissionregistration.k8s.io/v1beta1 ValidatingAdmissionPolicy":         "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy",
	"admissionregistration.k8s.io/v1beta1 ValidatingAdmissionPolicyBinding":  "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding",
	"admissionregistration.k8s.io/v1alpha1 MutatingAdmissionPolicy":          "admissionregistration.k8s.io/v1beta1 MutatingAdmissionPolicy",
	"admissionregistration.k8s.io/v1alpha1 MutatingAdmissionPolicyBinding":   "admissionregistration.k8s.io/v1beta1 MutatingAdmissionPolicyBinding",
	"authentication.k8s.io/v1alpha1 SelfSubjectReview":                       "authentication.k8s.io/v1 SelfSubjectReview",
	"authentication.k8s.io/v1beta1 SelfSubjectReview":                        "authentication.k8s.io/v1 SelfSubjectReview",
	"coordination.k8s.io/v1alpha1 LeaseCandidate":                            "coordination.k8s.io/v1beta1 LeaseCandidate",
	"coordination.k8s.io/v1alpha2 LeaseCandidate":                            "coordination.k8s.io/v1beta1 LeaseCandidate",
	"networking.k8s.io/v1alpha1 IPAddress":                                   "networking.k8s.io/v1 IPAddress",
	"networking.k8s.io/v1alpha1 ServiceCIDR":                                 "networking.k8s.io/v1 ServiceCIDR",
	"networking.k8s.io/v1beta1 IPAddress":                                    "networking.k8s.io/v1 IPAddress",
	"networking.k8s.io/v1beta1 ServiceCIDR":                                  "networking.k8s.io/v1 ServiceCIDR",
	"resource.k8s.io/v1alpha3 DeviceClass":                                   "resource.k8s.io/v1 DeviceClass",
	"resource.k8s.io/v1alpha3 ResourceClaim":                                 "resource.k8s.io/v1 ResourceClaim",
	"resource.k8s.io/v1alpha3 ResourceClaimTemplate":                         "resource.k8s.io/v1 ResourceClaimTemplate",
	"resource.k8s.io/v1alpha3 ResourceSlice":                                 "resource.k8s.io/v1 ResourceSlice",
	"resource.k8s.io/v1beta1 DeviceClass":                                    "resource.k8s.io/v1 DeviceClass",
	"resource.k8s.io/v1beta1 ResourceClaim":                                  "resource.k8s.io/v1 ResourceClaim",
	"resource.k8s.io/v1beta1 ResourceClaimTemplate":                          "resource.k8s.io/v1 ResourceClaimTemplate",
	"resource.k8s.io/v1beta1 ResourceSlice":                                  "resource.k8s.io/v1 ResourceSlice",
	"resource.k8s.io/v1beta2 DeviceClass":                                    "resource.k8s.io/v1 DeviceClass",
	"resource.k8s.io/v1beta2 ResourceClaim":                                  "resource.k8s.io/v1 ResourceClaim",
	"resource.k8s.io/v1beta2 ResourceClaimTemplate":                          "resource.k8s.io/v1 ResourceClaimTemplate",
	"resource.k8s.io/v1beta2 ResourceSlice":                                  "resource.k8s.io/v1 ResourceSlice",
	"storagemigration.k8s.io/v1alpha1 StorageVersionMigration":               "storagemigration.k8s.io/v1beta1 StorageVersionMigration",
	"certificates.k8s.io/v1alpha1 ClusterTrustBundle":                        "certificates.k8s.io/v1beta1 ClusterTrustBundle",
	"certificates.k8s.io/v1alpha1 PodCertificateRequest":                     "certificates.k8s.io/v1beta1 PodCertificateRequest",
}
