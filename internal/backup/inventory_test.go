package backup

import (
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/golden"
)

func TestInventoryAKS(t *testing.T) {
	node := func(name, pool, zone, itype string, taint string) string {
		y := "apiVersion: v1\nkind: Node\nmetadata:\n  name: " + name + "\n  labels:\n    kubernetes.azure.com/agentpool: " + pool +
			"\n    topology.kubernetes.io/zone: " + zone + "\n    node.kubernetes.io/instance-type: " + itype +
			"\nspec:\n  providerID: azure:///subscriptions/x/" + name + "\n  podCIDRs: [10.244." + name[len(name)-1:] + ".0/24]\n"
		if taint != "" {
			y += "  taints: [{key: " + taint + ", value: \"true\", effect: NoSchedule}]\n"
		}
		return y + "status:\n  capacity: {cpu: \"8\", memory: 32Gi, pods: \"110\"}\n  allocatable: {cpu: 7820m, memory: 27Gi, pods: \"110\"}\n" +
			"  nodeInfo: {kubeletVersion: v1.33.2, osImage: Ubuntu 22.04.5 LTS, containerRuntimeVersion: containerd://1.7.27, architecture: amd64}\n"
	}
	s := testSnapshot(t,
		node("aks-system-1", "system", "westeurope-1", "Standard_D8s_v5", "CriticalAddonsOnly"),
		node("aks-user-2", "user", "westeurope-1", "Standard_E8s_v5", ""),
		node("aks-user-3", "user", "westeurope-2", "Standard_E8s_v5", ""),
		"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: azure-cns, namespace: kube-system, uid: ds1}",
		"apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata: {name: disk.csi.azure.com, uid: csi1}",
		"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: managed-csi, uid: sc1, annotations: {storageclass.kubernetes.io/is-default-class: \"true\"}}\nprovisioner: disk.csi.azure.com",
		"apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: nginx, uid: ic1}\nspec: {controller: k8s.io/ingress-nginx}",
		"apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: kubernetes, uid: sc2}\nspec: {cidrs: [10.0.0.0/16]}",
	)
	s.Server.GitVersion = "v1.33.2"
	inv := buildInventory(s)
	b, err := yaml.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "inventory-aks.yaml", b)
	golden.Check(t, "recreate-aks.md", []byte(recreateNotes(inv)))
	if len(inv.Pools) != 2 || inv.Pools[1].Count != 2 || inv.Provider != "aks" {
		t.Errorf("pools %+v provider %s", inv.Pools, inv.Provider)
	}
}

func TestInventoryKubeadm(t *testing.T) {
	s := testSnapshot(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kubeadm-config, namespace: kube-system, uid: k1}\ndata:\n  ClusterConfiguration: |\n    kubernetesVersion: v1.33.2\n    networking:\n      podSubnet: 10.244.0.0/16\n      serviceSubnet: 10.96.0.0/12\n")
	inv := buildInventory(s)
	if inv.Provider != "kubeadm" || len(inv.PodCIDRs) != 1 || inv.PodCIDRs[0] != "10.244.0.0/16" || len(inv.ServiceCIDRs) != 1 || inv.KubeadmConfig == "" {
		t.Errorf("inventory %+v", inv)
	}
	golden.Check(t, "recreate-kubeadm.md", []byte(recreateNotes(inv)))
}
