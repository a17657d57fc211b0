package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Keys of the Secret that holds the admission guard's CA.
const (
	GuardCACertKey = "ca.crt"
	GuardCAKeyKey  = "ca.key"
)

// GuardCA returns the admission guard's CA from the Secret namespace/name,
// creating the Secret with newCA's certificate and key when it does not
// exist. Replicas that race to create it all end up with the one that was
// stored first, so every replica serves certificates from the same CA.
func GuardCA(ctx context.Context, t *Target, namespace, name string, newCA func() (certPEM, keyPEM []byte, err error)) (certPEM, keyPEM []byte, err error) {
	cs, err := kubernetes.NewForConfig(t.Config)
	if err != nil {
		return nil, nil, fmt.Errorf("guard CA: %w", err)
	}
	secrets := cs.CoreV1().Secrets(namespace)
	for range 3 {
		s, err := secrets.Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			c, k := s.Data[GuardCACertKey], s.Data[GuardCAKeyKey]
			if len(c) == 0 || len(k) == 0 {
				return nil, nil, fmt.Errorf("guard CA: secret %s/%s lacks %s or %s", namespace, name, GuardCACertKey, GuardCAKeyKey)
			}
			return c, k, nil
		case !apierrors.IsNotFound(err):
			return nil, nil, fmt.Errorf("guard CA: get secret %s/%s: %w", namespace, name, err)
		}
		c, k, err := newCA()
		if err != nil {
			return nil, nil, err
		}
		_, err = secrets.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "shipshape-guard"}},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{GuardCACertKey: c, GuardCAKeyKey: k},
		}, metav1.CreateOptions{})
		switch {
		case err == nil:
			return c, k, nil
		case apierrors.IsAlreadyExists(err):
			continue // another replica won; read its CA
		default:
			return nil, nil, fmt.Errorf("guard CA: create secret %s/%s: %w", namespace, name, err)
		}
	}
	return nil, nil, fmt.Errorf("guard CA: secret %s/%s kept changing", namespace, name)
}

// SetWebhookCABundle writes caPEM as the caBundle of every webhook of the
// ValidatingWebhookConfiguration name, when it differs, and reports whether
// it changed anything. Conflicting writes are retried.
func SetWebhookCABundle(ctx context.Context, t *Target, name string, caPEM []byte) (bool, error) {
	if len(caPEM) == 0 {
		return false, errors.New("set webhook caBundle: empty CA")
	}
	cs, err := kubernetes.NewForConfig(t.Config)
	if err != nil {
		return false, fmt.Errorf("set webhook caBundle: %w", err)
	}
	api := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	changed := false
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		changed = false
		vwc, err := api.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for i := range vwc.Webhooks {
			if !bytes.Equal(vwc.Webhooks[i].ClientConfig.CABundle, caPEM) {
				vwc.Webhooks[i].ClientConfig.CABundle = caPEM
				changed = true
			}
		}
		if !changed {
			return nil
		}
		_, err = api.Update(ctx, vwc, metav1.UpdateOptions{FieldManager: "shipshape-guard"})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("set caBundle of ValidatingWebhookConfiguration %s: %w", name, err)
	}
	return changed, nil
}

// guardContextResources are the kinds the admission guard reads to judge one
// object in context: the PodDisruptionBudgets, LimitRanges and
// ServiceAccounts next to a workload, the roles a binding refers to.
var guardContextResources = map[string]schema.GroupVersionResource{
	"PodDisruptionBudget": {Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	"LimitRange":          {Version: "v1", Resource: "limitranges"},
	"ServiceAccount":      {Version: "v1", Resource: "serviceaccounts"},
	"Role":                {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	"ClusterRole":         {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
}

// GuardContext is a watch-fed cache of the objects the admission guard needs
// besides the object under review. It lists and watches only the kinds in
// guardContextResources, never Secrets.
type GuardContext struct {
	factory dynamicinformer.DynamicSharedInformerFactory
	listers map[string]cache.GenericLister
}

// NewGuardContext prepares the cache; Start fills it.
func NewGuardContext(t *Target) (*GuardContext, error) {
	dc, err := dynamic.NewForConfig(t.Config)
	if err != nil {
		return nil, fmt.Errorf("guard context: %w", err)
	}
	g := &GuardContext{factory: dynamicinformer.NewDynamicSharedInformerFactory(dc, 0), listers: map[string]cache.GenericLister{}}
	for kind, gvr := range guardContextResources {
		g.listers[kind] = g.factory.ForResource(gvr).Lister()
	}
	return g, nil
}

// Start begins watching and waits until every kind is listed once, or ctx ends.
func (g *GuardContext) Start(ctx context.Context) error {
	g.factory.Start(ctx.Done())
	for gvr, ok := range g.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("guard context: %s not synced: %w", gvr.Resource, context.Cause(ctx))
		}
	}
	return nil
}

// Stop ends the watches.
func (g *GuardContext) Stop() { g.factory.Shutdown() }

// Related returns the cached objects that judging obj may need: for a
// binding, the Roles of its namespace and every ClusterRole; for anything
// else in a namespace, that namespace's PodDisruptionBudgets, LimitRanges and
// ServiceAccounts.
func (g *GuardContext) Related(obj *unstructured.Unstructured) []snapshot.Object {
	ns := obj.GetNamespace()
	var kinds []string
	switch obj.GetKind() {
	case "RoleBinding":
		kinds = []string{"Role", "ClusterRole"}
	case "ClusterRoleBinding":
		kinds = []string{"ClusterRole"}
	default:
		if ns == "" {
			return nil
		}
		kinds = []string{"PodDisruptionBudget", "LimitRange", "ServiceAccount"}
	}
	var out []snapshot.Object
	for _, kind := range kinds {
		var objs []runtime.Object
		var err error
		if kind == "ClusterRole" {
			objs, err = g.listers[kind].List(labels.Everything())
		} else {
			objs, err = g.listers[kind].ByNamespace(ns).List(labels.Everything())
		}
		if err != nil {
			continue // a cache list does not fail; nothing to add if it did
		}
		for _, o := range objs {
			if u, ok := o.(*unstructured.Unstructured); ok {
				out = append(out, snapshot.Object{Unstructured: u, Origin: snapshot.Origin{Item: -1}})
			}
		}
	}
	return out
}
