// Package inventory holds the checks that describe what a snapshot contains:
// the server version, the nodes, the namespaces and how many objects of each
// kind. They report at severity info and never fail a run.
//
// Like every capability package it judges and never prints or fetches.
package inventory

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Check IDs.
const (
	ServerCheck     = "inventory/server"
	NodesCheck      = "inventory/nodes"
	NamespacesCheck = "inventory/namespaces"
	ObjectsCheck    = "inventory/objects"
)

// Checks returns the inventory checks.
func Checks() []finding.Check {
	return []finding.Check{
		{
			ID:       ServerCheck,
			Title:    "API server version and endpoint",
			Severity: finding.Info,
			Doc: `Reports the version of the API server a live scan read, and its address, so that every
report says which cluster it describes. It reports nothing for files.`,
			Run: server,
		},
		{
			ID:       NodesCheck,
			Title:    "Nodes with their readiness, kubelet version and capacity",
			Severity: finding.Info,
			Doc: `Reports one line per Node: whether it is Ready, its kubelet version, operating system and
architecture, and its CPU and memory capacity. Knowing what a cluster ran on is the first thing a
rebuild needs.`,
			Run: nodes,
		},
		{
			ID:       NamespacesCheck,
			Title:    "Namespaces and how many objects each holds",
			Severity: finding.Info,
			Doc: `Reports each namespace that exists (live) or that objects name (files), with the number
of namespaced objects read in it. Objects in files without a namespace are counted under
"(unset)", since the namespace they land in depends on how they are applied.`,
			Run: namespaces,
		},
		{
			ID:       ObjectsCheck,
			Title:    "Objects per kind",
			Severity: finding.Info,
			Doc:      `Reports how many objects of each apiVersion and kind were read.`,
			Run:      objects,
		},
	}
}

func server(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
	if s.Server == nil {
		return nil, nil
	}
	msg := "Kubernetes " + orUnknown(s.Server.GitVersion)
	if s.Server.Platform != "" {
		msg += " (" + s.Server.Platform + ")"
	}
	if s.Server.Host != "" {
		msg += " at " + s.Server.Host
	}
	if s.Server.Context != "" {
		msg += ", context " + s.Server.Context
	}
	if s.Server.Namespace != "" {
		msg += "; read namespace " + s.Server.Namespace + " only (-A reads all)"
	} else {
		msg += "; read all namespaces"
	}
	return []finding.Finding{{Check: ServerCheck, Severity: finding.Info, Message: msg}}, nil
}

func nodes(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
	var out []finding.Finding
	for _, o := range s.Objects {
		if o.GetKind() != "Node" || o.GroupVersionKind().Group != "" {
			continue
		}
		ready := "NotReady"
		conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
		for _, c := range conds {
			m, ok := c.(map[string]interface{})
			if ok && m["type"] == "Ready" && m["status"] == "True" {
				ready = "Ready"
			}
		}
		kubelet, _, _ := unstructured.NestedString(o.Object, "status", "nodeInfo", "kubeletVersion")
		osName, _, _ := unstructured.NestedString(o.Object, "status", "nodeInfo", "operatingSystem")
		arch, _, _ := unstructured.NestedString(o.Object, "status", "nodeInfo", "architecture")
		cpu, _, _ := unstructured.NestedString(o.Object, "status", "capacity", "cpu")
		mem, _, _ := unstructured.NestedString(o.Object, "status", "capacity", "memory")
		msg := fmt.Sprintf("node %s: %s, kubelet %s, %s/%s, cpu %s, memory %s",
			o.GetName(), ready, orUnknown(kubelet), orUnknown(osName), orUnknown(arch), orUnknown(cpu), orUnknown(mem))
		out = append(out, finding.Finding{
			Check: NodesCheck, Severity: finding.Info, Message: msg,
			Object: finding.ObjectOf(o), Location: finding.LocationOf(o),
		})
	}
	if len(out) == 0 && s.Source == snapshot.SourceCluster && listed(s, "", "nodes") {
		out = append(out, finding.Finding{Check: NodesCheck, Severity: finding.Info,
			Message: "the cluster has no nodes: nothing can run until nodes join"})
	}
	return out, nil
}

// listed reports whether discovery found the resource, so an absent kind can
// be told apart from one that was not read.
func listed(s *snapshot.Snapshot, group, resource string) bool {
	for _, r := range s.Resources {
		if r.Group == group && r.Resource == resource {
			return true
		}
	}
	return false
}

func namespaces(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
	counts := map[string]int{}
	declared := map[string]snapshot.Object{}
	for _, o := range s.Objects {
		if o.GetKind() == "Namespace" && o.GroupVersionKind().Group == "" {
			declared[o.GetName()] = o
			if _, ok := counts[o.GetName()]; !ok {
				counts[o.GetName()] = 0
			}
			continue
		}
		ns := o.GetNamespace()
		if ns == "" {
			if s.Source == snapshot.SourceCluster || !namespacedInFiles(o) {
				continue
			}
			ns = "(unset)"
		}
		counts[ns]++
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]finding.Finding, 0, len(names))
	for _, n := range names {
		f := finding.Finding{
			Check: NamespacesCheck, Severity: finding.Info,
			Message: fmt.Sprintf("namespace %s: %s", n, plural(counts[n], "object")),
		}
		if o, ok := declared[n]; ok {
			f.Object, f.Location = finding.ObjectOf(o), finding.LocationOf(o)
		} else if n != "(unset)" {
			f.Object = &finding.Object{APIVersion: "v1", Kind: "Namespace", Name: n}
		}
		out = append(out, f)
	}
	return out, nil
}

// clusterScopedKinds are the built-in kinds that never have a namespace, so a
// file object of one of these kinds without a namespace is not "unset".
var clusterScopedKinds = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ClusterRole": true,
	"ClusterRoleBinding": true, "CustomResourceDefinition": true, "StorageClass": true,
	"PriorityClass": true, "APIService": true, "ValidatingWebhookConfiguration": true,
	"MutatingWebhookConfiguration": true, "ValidatingAdmissionPolicy": true,
	"ValidatingAdmissionPolicyBinding": true, "MutatingAdmissionPolicy": true,
	"MutatingAdmissionPolicyBinding": true, "PodSecurityPolicy": true, "CSIDriver": true,
	"CSINode": true, "VolumeAttachment": true, "RuntimeClass": true, "IngressClass": true,
	"CertificateSigningRequest": true, "FlowSchema": true, "PriorityLevelConfiguration": true,
	"DeviceClass": true, "ResourceSlice": true, "GatewayClass": true, "ClusterIssuer": true,
}

func namespacedInFiles(o snapshot.Object) bool { return !clusterScopedKinds[o.GetKind()] }

func objects(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
	type key struct{ apiVersion, kind string }
	counts := map[key]int{}
	for _, o := range s.Objects {
		counts[key{o.GetAPIVersion(), o.GetKind()}]++
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return keys[i].kind < keys[j].kind
		}
		return keys[i].apiVersion < keys[j].apiVersion
	})
	out := make([]finding.Finding, 0, len(keys))
	for _, k := range keys {
		out = append(out, finding.Finding{
			Check: ObjectsCheck, Severity: finding.Info,
			Message: fmt.Sprintf("%s (%s): %d", k.kind, k.apiVersion, counts[k]),
			Object:  &finding.Object{APIVersion: k.apiVersion, Kind: k.kind},
		})
	}
	return out, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "unknown"
	}
	return s
}
