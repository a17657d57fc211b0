package audit

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func automountToken(ctx context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
	out, err := perWorkload(automountPod)(ctx, s)
	if err != nil {
		return nil, err
	}
	for _, o := range s.Objects {
		if o.Unstructured == nil || o.GetKind() != "ServiceAccount" || o.GetAPIVersion() != "v1" {
			continue
		}
		v, set := boolField(o.Object, "automountServiceAccountToken")
		if set && !v {
			continue
		}
		msg := "automountServiceAccountToken unset (effective true: every pod using it mounts its token unless the pod opts out)"
		if set {
			msg = "automountServiceAccountToken: true: every pod using it mounts its token unless the pod opts out"
		}
		out = append(out, finding.Finding{
			Check: AutomountTokenCheck, Severity: finding.Low, Message: msg,
			Remediation: "Set automountServiceAccountToken: false on the ServiceAccount and true only on pods that call the API.",
			Object:      finding.ObjectOf(o), Location: finding.LocationOf(o),
		})
	}
	return out, nil
}

func automountPod(w workload, ac *auditContext, emit func(finding.Finding)) {
	fix := "Set spec.automountServiceAccountToken: false unless the pod calls the Kubernetes API."
	v, set := boolField(w.spec, "automountServiceAccountToken")
	if set {
		if v {
			emit(w.finding(AutomountTokenCheck, finding.Medium, "automountServiceAccountToken: true at "+w.field, fix))
		}
		return
	}
	saName := stringField(w.spec, "serviceAccountName")
	if saName == "" {
		saName = stringField(w.spec, "serviceAccount") // the deprecated alias
	}
	if saName == "" {
		saName = "default"
	}
	sa := ac.serviceAccount(w.obj.GetNamespace(), saName)
	if sa != nil {
		if sv, sset := boolField(sa, "automountServiceAccountToken"); sset && !sv {
			return
		}
		emit(w.finding(AutomountTokenCheck, finding.Medium,
			fmt.Sprintf("automountServiceAccountToken unset on the pod and on ServiceAccount %q (effective true: the API token is mounted)", saName), fix))
		return
	}
	emit(w.finding(AutomountTokenCheck, finding.Medium,
		fmt.Sprintf("automountServiceAccountToken unset on the pod, and ServiceAccount %q is not in the input (effective true unless it opts out)", saName), fix))
}

func namespaceDoc(why string) string {
	return why + `

A namespace is judged only when the input holds it: on a live cluster every namespace read, on
files only namespaces declared by a Namespace object in the files, so that a scan of a lone
Deployment does not report noise. kube-system, kube-public and kube-node-lease are skipped.`
}

// namespaces returns the namespaces the input holds, sorted, with their
// objects (nil for the Namespace object itself) and the Namespace object.
type nsInfo struct {
	name string
	ns   *snapshot.Object
	// kinds counts objects per kind in the namespace.
	kinds map[string]int
	// workloads without and with a priority class.
	unprioritised, prioritised int
}

func judgedNamespaces(s *snapshot.Snapshot) []*nsInfo {
	byName := map[string]*nsInfo{}
	get := func(n string) *nsInfo {
		if byName[n] == nil {
			byName[n] = &nsInfo{name: n, kinds: map[string]int{}}
		}
		return byName[n]
	}
	ls := layouts()
	for i := range s.Objects {
		o := &s.Objects[i]
		if o.Unstructured == nil {
			continue
		}
		kind, _ := o.Object["kind"].(string)
		if kind == "Namespace" {
			get(o.GetName()).ns = o
			continue
		}
		ns := o.GetNamespace()
		if ns == "" {
			continue
		}
		info := get(ns)
		info.kinds[kind]++
		if w, ok := workloadIn(*o, ls); ok && !owned(w) {
			if stringField(w.spec, "priorityClassName") != "" {
				info.prioritised++
			} else {
				info.unprioritised++
			}
		}
	}
	var out []*nsInfo
	for n, info := range byName {
		if strings.HasPrefix(n, "kube-") && (n == "kube-system" || n == "kube-public" || n == "kube-node-lease") {
			continue
		}
		if s.Source == snapshot.SourceFiles && info.ns == nil {
			continue
		}
		if s.Source == snapshot.SourceCluster && s.Server != nil && s.Server.Namespace != "" && n != s.Server.Namespace {
			continue
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// owned reports whether a workload is controlled by another pod-bearing
// object (a ReplicaSet of a Deployment, a Pod of a ReplicaSet, a Job of a
// CronJob), so that each problem of a live cluster is reported once, on the
// object people edit.
func owned(w workload) bool {
	refs, _ := mapAt(w.obj.Object, "metadata")["ownerReferences"].([]any)
	for _, r := range refs {
		rm, _ := r.(map[string]any)
		if c, _ := boolField(rm, "controller"); c && podSpecPaths[stringField(rm, "kind")] != nil {
			return true
		}
	}
	return false
}

// nsFinding is a finding about a namespace.
func nsFinding(s *snapshot.Snapshot, info *nsInfo, check string, sev finding.Severity, msg, fix string) finding.Finding {
	f := finding.Finding{Check: check, Severity: sev, Message: msg, Remediation: fix,
		Object: &finding.Object{APIVersion: "v1", Kind: "Namespace", Name: info.name}}
	if info.ns != nil {
		f.Location = finding.LocationOf(*info.ns)
	}
	return f
}

// gapFor reports whether the snapshot could not read a resource, so that its
// absence proves nothing.
func gapFor(s *snapshot.Snapshot, resource string) bool {
	for _, g := range s.Gaps {
		if strings.Contains(g.Source, resource) {
			return true
		}
	}
	return false
}

func namespaceQuota(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
	var out []finding.Finding
	for _, info := range judgedNamespaces(s) {
		var missing []string
		if info.kinds["ResourceQuota"] == 0 && !gapFor(s, "resourcequotas") {
			missing = append(missing, "ResourceQuota")
		}
		if info.kinds["LimitRange"] == 0 && !gapFor(s, "limitranges") {
			missing = append(missing, "LimitRange")
		}
		if len(missing) == 0 {
			continue
		}
		out = append(out, nsFinding(s, info, NamespaceQuotaCheck, finding.Medium,
			fmt.Sprintf("namespace %q has no %s", info.name, strings.Join(missing, " and no ")),
			"Add a ResourceQuota capping the namespace's requests and limits, and a LimitRange with container defaults."))
	}
	return out, nil
}

func namespaceNetworkPolicy(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
	if gapFor(s, "networkpolicies") {
		return nil, nil
	}
	var out []finding.Finding
	for _, info := range judgedNamespaces(s) {
		if info.kinds["NetworkPolicy"] > 0 {
			continue
		}
		out = append(out, nsFinding(s, info, NamespaceNetworkPolicyCheck, finding.Medium,
			fmt.Sprintf("namespace %q has no NetworkPolicy: every pod accepts traffic from anywhere in the cluster", info.name),
			"Add a default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress, Egress]) and allow what is needed."))
	}
	return out, nil
}

func namespacePriority(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
	infos := judgedNamespaces(s)
	// A PriorityClass with globalDefault gives every pod without one a priority.
	for _, o := range s.Objects {
		if o.Unstructured != nil && o.GetKind() == "PriorityClass" {
			if v, _ := boolField(o.Object, "globalDefault"); v {
				return nil, nil
			}
		}
	}
	prioritised := 0
	ls := layouts()
	for i := range s.Objects {
		if w, ok := workloadIn(s.Objects[i], ls); ok && !owned(w) && stringField(w.spec, "priorityClassName") != "" {
			prioritised++
		}
	}
	if prioritised == 0 {
		return nil, nil
	}
	var out []finding.Finding
	for _, info := range infos {
		if info.unprioritised == 0 || info.prioritised > 0 {
			continue
		}
		out = append(out, nsFinding(s, info, NamespacePriorityCheck, finding.Low,
			fmt.Sprintf("namespace %q: %d workload(s) without priorityClassName (effective priority 0) while %d workload(s) elsewhere have one", info.name, info.unprioritised, prioritised),
			"Give the namespace's workloads a PriorityClass (low for batch and CI, higher for production), or set a globalDefault PriorityClass."))
	}
	return out, nil
}
