package controlplane

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strconv"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/shipshape-dev/shipshape/sandbox/internal/controllermanager"
	"github.com/shipshape-dev/shipshape/sandbox/internal/pki"
)

const pollInterval = 200 * time.Millisecond

func restConfig(kubeconfigPath string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
	if err != nil {
		return nil, err
	}
	cfg.UserAgent = "shipshape-sandbox"
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// poll calls check until it returns true, ctx ends or one of the watched
// components stops. The last check error is reported on timeout.
func poll(ctx context.Context, what string, api *background, cm *controllermanager.Process, check func(context.Context) (bool, error)) error {
	var last error
	var cmDone <-chan struct{}
	if cm != nil {
		cmDone = cm.Done()
	}
	for {
		reqCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := check(reqCtx)
		cancel()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), last)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-api.done:
			return api.failure()
		case <-cmDone:
			return cm.Err()
		case <-time.After(pollInterval):
		}
	}
}

func waitAPIServer(ctx context.Context, cfg *rest.Config, api *background) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	return poll(ctx, "kube-apiserver /readyz", api, nil, func(ctx context.Context) (bool, error) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return false, fmt.Errorf("%w: %s", err, body)
		}
		return string(body) == "ok", nil
	})
}

// bootstrapRBAC grants kubeadm's cluster-admins group (used by admin.conf)
// the cluster-admin role, as kubeadm does during init.
func bootstrapRBAC(ctx context.Context, superAdmin *rest.Config) error {
	cs, err := kubernetes.NewForConfig(superAdmin)
	if err != nil {
		return err
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: pki.ClusterAdminsGroup},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: pki.ClusterAdminsGroup}},
	}
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create ClusterRoleBinding %s: %w", crb.Name, err)
	}
	return nil
}

func waitControllerManager(ctx context.Context, port int, cm *controllermanager.Process, api *background) error {
	client := &http.Client{Transport: &http.Transport{
		// The controller manager serves a self-signed certificate; only
		// its liveness matters here.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health probe
	}}
	defer client.CloseIdleConnections()
	url := "https://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
	return poll(ctx, "kube-controller-manager /healthz", api, cm, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// waitWorkloadsReady waits for the default namespace and its default
// service account, which the controller manager creates.
func waitWorkloadsReady(ctx context.Context, admin *rest.Config, cm *controllermanager.Process, api *background) error {
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}
	return poll(ctx, "default namespace and service account", api, cm, func(ctx context.Context) (bool, error) {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{}); err != nil {
			return false, err
		}
		if _, err := cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return false, err
		}
		return true, nil
	})
}
