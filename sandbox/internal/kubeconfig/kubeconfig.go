// Package kubeconfig writes and reads the kubeadm-style kubeconfig files of
// the sandbox (admin.conf, super-admin.conf, controller-manager.conf, ...)
// with embedded client certificates.
package kubeconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ClusterName is the cluster name kubeadm uses in its kubeconfigs.
const ClusterName = "kubernetes"

// File describes one kubeconfig to write.
type File struct {
	Path    string
	Cluster string
	User    string
	Context string
	Server  string
	CAPEM   []byte
	CertPEM []byte
	KeyPEM  []byte
}

// Write serialises f to f.Path with mode 0600.
func Write(f File) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[f.Cluster] = &clientcmdapi.Cluster{
		Server:                   f.Server,
		CertificateAuthorityData: f.CAPEM,
	}
	cfg.AuthInfos[f.User] = &clientcmdapi.AuthInfo{
		ClientCertificateData: f.CertPEM,
		ClientKeyData:         f.KeyPEM,
	}
	cfg.Contexts[f.Context] = &clientcmdapi.Context{Cluster: f.Cluster, AuthInfo: f.User}
	cfg.CurrentContext = f.Context
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	tmp := f.Path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, f.Path)
}

// ClientCert returns the embedded client certificate and key of the
// current context of the kubeconfig at path. A missing file yields an
// error wrapping fs.ErrNotExist.
func ClientCert(path string) (certPEM, keyPEM []byte, err error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil, err
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, nil, err
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return nil, nil, fmt.Errorf("%s: no current context", path)
	}
	user, ok := cfg.AuthInfos[ctx.AuthInfo]
	if !ok || len(user.ClientCertificateData) == 0 || len(user.ClientKeyData) == 0 {
		// Treat a kubeconfig without an embedded identity as absent so
		// that it is regenerated.
		return nil, nil, fmt.Errorf("%s: no embedded client certificate: %w", path, fs.ErrNotExist)
	}
	return user.ClientCertificateData, user.ClientKeyData, nil
}

// IsNotExist reports whether err means the kubeconfig is absent.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
