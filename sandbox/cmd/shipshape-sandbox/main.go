// Command shipshape-sandbox runs a local Kubernetes control plane (embedded
// etcd, kube-apiserver and kube-controller-manager) with a kubeadm-style PKI
// for development and integration tests.
package main

import (
	"fmt"
	"os"

	"github.com/shipshape-dev/shipshape/sandbox/internal/cli"
)

func main() {
	if err := cli.Run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "shipshape-sandbox:", err)
		os.Exit(1)
	}
}
