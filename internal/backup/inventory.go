package backup

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Inventory is inventory.yaml: what a cluster ran on, for recreating it.
type Inventory struct {
	ServerVersion string `json:"serverVersion,omitempty"`
	// Provider is kubeadm, aks, eks, gke or unknown, as detected.
	Provider       string         `json:"provider"`
	Pools          []Pool         `json:"pools,omitempty"`
	ServiceCIDRs   []string       `json:"serviceCIDRs,omitempty"`
	PodCIDRs       []string       `json:"podCIDRs,omitempty"`
	CNI            []string       `json:"cni,omitempty"`
	CSIDrivers     []string       `json:"csiDrivers,omitempty"`
	IngressClasses []string       `json:"ingressClasses,omitempty"`
	StorageClasses []StorageClass `json:"storageClasses,omitempty"`
	// KubeadmConfig is the ClusterConfiguration of the kubeadm-config ConfigMap.
	KubeadmConfig string `json:"kubeadmConfig,omitempty"`
}

// Pool is a group of nodes with the same pool label, instance type and versions.
type Pool struct {
	Name             string            `json:"name"`
	Count            int               `json:"count"`
	Nodes            []string          `json:"nodes"`
	InstanceType     string            `json:"instanceType,omitempty"`
	Zones            []string          `json:"zones,omitempty"`
	Capacity         map[string]string `json:"capacity,omitempty"`
	Allocatable      map[string]string `json:"allocatable,omitempty"`
	Taints           []string          `json:"taints,omitempty"`
	KubeletVersion   string            `json:"kubeletVersion,omitempty"`
	OSImage          string            `json:"osImage,omitempty"`
	ContainerRuntime string            `json:"containerRuntime,omitempty"`
	Architecture     string            `json:"architecture,omitempty"`
}

// StorageClass is one StorageClass's provisioner and whether it is the default.
type StorageClass struct {
	Name        string `json:"name"`
	Provisioner string `json:"provisioner"`
	Default     bool   `json:"default,omitempty"`
}

var poolLabels = []string{
	"kubernetes.azure.com/agentpool", "agentpool", "eks.amazonaws.com/nodegroup",
	"alpha.eksctl.io/nodegroup-name", "karpenter.sh/nodepool", "cloud.google.com/gke-nodepool",
	"node.kubernetes.io/pool",
}

var cniNames = map[string]string{
	"calico-node": "calico", "cilium": "cilium", "kube-flannel-ds": "flannel", "kube-flannel": "flannel",
	"aws-node": "aws-vpc-cni", "azure-cns": "azure-cni", "azure-cni": "azure-cni", "weave-net": "weave",
	"kube-router": "kube-router", "antrea-agent": "antrea", "canal": "canal",
}

func buildInventory(s *snapshot.Snapshot) *Inventory {
	inv := &Inventory{Provider: "unknown"}
	if s.Server != nil {
		inv.ServerVersion = s.Server.GitVersion
	}
	pools := map[string]*Pool{}
	podCIDRs := map[string]bool{}
	for _, o := range s.Objects {
		g, k := o.GroupVersionKind().Group, o.GetKind()
		switch {
		case g == "" && k == "Node":
			addNode(inv, pools, o.Unstructured, podCIDRs)
		case g == "networking.k8s.io" && k == "ServiceCIDR":
			cidrs, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "cidrs")
			inv.ServiceCIDRs = append(inv.ServiceCIDRs, cidrs...)
		case g == "apps" && k == "DaemonSet" && o.GetNamespace() == "kube-system":
			if c, ok := cniNames[o.GetName()]; ok {
				inv.CNI = append(inv.CNI, c)
			}
		case g == "storage.k8s.io" && k == "CSIDriver":
			inv.CSIDrivers = append(inv.CSIDrivers, o.GetName())
		case g == "networking.k8s.io" && k == "IngressClass":
			ctrl, _, _ := unstructured.NestedString(o.Object, "spec", "controller")
			inv.IngressClasses = append(inv.IngressClasses, o.GetName()+" ("+ctrl+")")
		case g == "storage.k8s.io" && k == "StorageClass":
			p, _, _ := unstructured.NestedString(o.Object, "provisioner")
			inv.StorageClasses = append(inv.StorageClasses, StorageClass{
				Name: o.GetName(), Provisioner: p,
				Default: o.GetAnnotations()["storageclass.kubernetes.io/is-default-class"] == "true",
			})
		case g == "" && k == "ConfigMap" && o.GetNamespace() == "kube-system" && o.GetName() == "kubeadm-config":
			cc, _, _ := unstructured.NestedString(o.Object, "data", "ClusterConfiguration")
			inv.KubeadmConfig = cc
			if inv.Provider == "unknown" {
				inv.Provider = "kubeadm"
			}
			for _, line := range strings.Split(cc, "\n") {
				line = strings.TrimSpace(line)
				if v, ok := strings.CutPrefix(line, "podSubnet:"); ok {
					podCIDRs[strings.TrimSpace(v)] = true
				}
				if v, ok := strings.CutPrefix(line, "serviceSubnet:"); ok && len(inv.ServiceCIDRs) == 0 {
					inv.ServiceCIDRs = append(inv.ServiceCIDRs, strings.TrimSpace(v))
				}
			}
		}
	}
	for c := range podCIDRs {
		if c != "" {
			inv.PodCIDRs = append(inv.PodCIDRs, c)
		}
	}
	for _, p := range pools {
		sort.Strings(p.Nodes)
		sort.Strings(p.Zones)
		inv.Pools = append(inv.Pools, *p)
	}
	sort.Slice(inv.Pools, func(i, j int) bool { return inv.Pools[i].Name < inv.Pools[j].Name })
	for _, l := range []*[]string{&inv.ServiceCIDRs, &inv.PodCIDRs, &inv.CNI, &inv.CSIDrivers, &inv.IngressClasses} {
		*l = uniqueSorted(*l)
	}
	sort.Slice(inv.StorageClasses, func(i, j int) bool { return inv.StorageClasses[i].Name < inv.StorageClasses[j].Name })
	return inv
}

func addNode(inv *Inventory, pools map[string]*Pool, n *unstructured.Unstructured, podCIDRs map[string]bool) {
	labels := n.GetLabels()
	provider, _, _ := unstructured.NestedString(n.Object, "spec", "providerID")
	switch {
	case strings.HasPrefix(provider, "azure://"):
		inv.Provider = "aks"
	case strings.HasPrefix(provider, "aws://"):
		inv.Provider = "eks"
	case strings.HasPrefix(provider, "gce://"):
		inv.Provider = "gke"
	}
	ni := func(f string) string {
		v, _, _ := unstructured.NestedString(n.Object, "status", "nodeInfo", f)
		return v
	}
	pool := ""
	for _, l := range poolLabels {
		if v := labels[l]; v != "" {
			pool = v
			break
		}
	}
	if pool == "" {
		pool = "workers"
		if _, ok := labels["node-role.kubernetes.io/control-plane"]; ok {
			pool = "control-plane"
		}
	}
	var taints []string
	ts, _, _ := unstructured.NestedSlice(n.Object, "spec", "taints")
	for _, t := range ts {
		if tm, ok := t.(map[string]any); ok {
			taints = append(taints, fmt.Sprintf("%v=%v:%v", tm["key"], valueOr(tm["value"]), tm["effect"]))
		}
	}
	sort.Strings(taints)
	itype := labels["node.kubernetes.io/instance-type"]
	key := strings.Join([]string{pool, itype, ni("kubeletVersion"), ni("osImage"), strings.Join(taints, ",")}, "|")
	p, ok := pools[key]
	if !ok {
		p = &Pool{
			Name: pool, InstanceType: itype, Taints: taints, KubeletVersion: ni("kubeletVersion"),
			OSImage: ni("osImage"), ContainerRuntime: ni("containerRuntimeVersion"), Architecture: ni("architecture"),
		}
		p.Capacity, _, _ = unstructured.NestedStringMap(n.Object, "status", "capacity")
		p.Allocatable, _, _ = unstructured.NestedStringMap(n.Object, "status", "allocatable")
		pools[key] = p
	}
	p.Count++
	p.Nodes = append(p.Nodes, n.GetName())
	if z := labels["topology.kubernetes.io/zone"]; z != "" && !contains(p.Zones, z) {
		p.Zones = append(p.Zones, z)
	}
	cidrs, _, _ := unstructured.NestedStringSlice(n.Object, "spec", "podCIDRs")
	for _, c := range cidrs {
		podCIDRs[c] = true
	}
}

func valueOr(v any) any {
	if v == nil {
		return ""
	}
	return v
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func uniqueSorted(xs []string) []string {
	sort.Strings(xs)
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// recreateNotes is RECREATE.md: best-effort steps to recreate such a cluster
// before restoring the backup into it.
func recreateNotes(inv *Inventory) string {
	var b strings.Builder
	b.WriteString("# Recreating this cluster\n\n")
	b.WriteString("Best-effort notes generated from inventory.yaml. Check every value before running anything.\n\n")
	fmt.Fprintf(&b, "- Kubernetes version: %s\n- Detected provider: %s\n", orUnknown(inv.ServerVersion), inv.Provider)
	fmt.Fprintf(&b, "- Service CIDRs: %s\n- Pod CIDRs: %s\n", orUnknown(strings.Join(inv.ServiceCIDRs, ", ")), orUnknown(strings.Join(inv.PodCIDRs, ", ")))
	fmt.Fprintf(&b, "- CNI: %s\n- CSI drivers: %s\n- Ingress classes: %s\n\n", orUnknown(strings.Join(inv.CNI, ", ")),
		orUnknown(strings.Join(inv.CSIDrivers, ", ")), orUnknown(strings.Join(inv.IngressClasses, ", ")))
	b.WriteString("## 1. Create the control plane and node pools\n\n")
	version := strings.TrimPrefix(strings.SplitN(inv.ServerVersion, "+", 2)[0], "v")
	switch inv.Provider {
	case "aks":
		first, rest := firstPool(inv.Pools)
		fmt.Fprintf(&b, "    az aks create -g RESOURCE_GROUP -n CLUSTER --kubernetes-version %s --network-plugin azure --nodepool-name %s --node-count %d --node-vm-size %s\n",
			orUnknown(version), first.Name, first.Count, orUnknown(first.InstanceType))
		for _, p := range rest {
			fmt.Fprintf(&b, "    az aks nodepool add -g RESOURCE_GROUP --cluster-name CLUSTER -n %s --node-count %d --node-vm-size %s\n", p.Name, p.Count, orUnknown(p.InstanceType))
		}
	case "eks":
		fmt.Fprintf(&b, "    eksctl create cluster --name CLUSTER --version %s --without-nodegroup\n", orUnknown(majorMinor(version)))
		for _, p := range inv.Pools {
			fmt.Fprintf(&b, "    eksctl create nodegroup --cluster CLUSTER --name %s --nodes %d --node-type %s\n", p.Name, p.Count, orUnknown(p.InstanceType))
		}
	case "gke":
		first, rest := firstPool(inv.Pools)
		fmt.Fprintf(&b, "    gcloud container clusters create CLUSTER --cluster-version %s --node-pool %s --num-nodes %d --machine-type %s\n",
			orUnknown(version), first.Name, first.Count, orUnknown(first.InstanceType))
		for _, p := range rest {
			fmt.Fprintf(&b, "    gcloud container node-pools create %s --cluster CLUSTER --num-nodes %d --machine-type %s\n", p.Name, p.Count, orUnknown(p.InstanceType))
		}
	default:
		b.WriteString("Self-managed (kubeadm or unknown). With kubeadm, save the ClusterConfiguration from\n")
		b.WriteString("inventory.yaml (kubeadmConfig) as cluster.yaml and run on the first control-plane node:\n\n")
		b.WriteString("    kubeadm init --config cluster.yaml --upload-certs\n\n")
		b.WriteString("then join the other nodes with `kubeadm join` (see `kubeadm token create --print-join-command`).\n")
	}
	b.WriteString("\nNode pools as they were:\n\n")
	b.WriteString("| pool | nodes | instance type | zones | cpu | memory | taints | kubelet |\n|---|---|---|---|---|---|---|---|\n")
	for _, p := range inv.Pools {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", p.Name, p.Count, orUnknown(p.InstanceType),
			strings.Join(p.Zones, " "), p.Capacity["cpu"], p.Capacity["memory"], strings.Join(p.Taints, " "), p.KubeletVersion)
	}
	b.WriteString("\n## 2. Install the cluster add-ons\n\n")
	b.WriteString("Install the CNI, CSI drivers and ingress controllers listed above, at the versions in their Helm\n")
	b.WriteString("releases (helm/*/*/chart.yaml) where they were installed with Helm.\n\n")
	b.WriteString("## 3. Restore\n\n")
	b.WriteString("    shipshape restore --from BACKUP --identity KEY --dry-run\n    shipshape restore --from BACKUP --identity KEY\n\n")
	b.WriteString("Reinstall each Helm release from helm/<namespace>/<release>/ (values.yaml.age holds its values;\n")
	b.WriteString("NOTE.md says what is not known about its chart).\n")
	return b.String()
}

// firstPool is the pool a managed cluster is created with (the others are added).
func firstPool(pools []Pool) (Pool, []Pool) {
	if len(pools) == 0 {
		return Pool{Name: "default", Count: 1}, nil
	}
	return pools[0], pools[1:]
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
