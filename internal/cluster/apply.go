package cluster

// This file holds the write side of the cluster package, used by restore and
// drill: server-side apply through the dynamic client, a REST mapper that can
// be refreshed once new CustomResourceDefinitions are served, and waiting for
// a CRD to be Established and NamesAccepted.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the field manager every shipshape write uses.
const FieldManager = "shipshape"

// Apply-side client rate limits. A restore writes thousands of small objects
// and waits on each answer; the API server's Priority and Fairness protects
// it, so the client allows far more than the read defaults.
const (
	applyQPS   = 500
	applyBurst = 1000
)

// ErrNotServed is returned (wrapped) for an object whose group, version and
// kind the target API server does not serve.
var ErrNotServed = errors.New("not served by the target API server")

// Applier writes objects to one API server with server-side apply.
// It is safe for concurrent use.
type Applier struct {
	dyn    dynamic.Interface
	disc   discovery.CachedDiscoveryInterface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	// Namespace is used for namespaced objects that name none.
	Namespace string
}

// NewApplier connects to t's API server. It does not contact the server.
func NewApplier(t *Target) (*Applier, error) {
	if t == nil || t.Config == nil {
		return nil, errors.New("apply: no target")
	}
	cfg := rest.CopyConfig(t.Config)
	if cfg.WarningHandler == nil && cfg.WarningHandlerWithContext == nil {
		cfg.WarningHandler = rest.NoWarnings{}
	}
	if cfg.QPS < applyQPS {
		cfg.QPS, cfg.Burst = applyQPS, applyBurst
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("apply: http client: %w", err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("apply: dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("apply: discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	ns := t.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	return &Applier{dyn: dyn, disc: cached, mapper: restmapper.NewDeferredDiscoveryRESTMapper(cached), Namespace: ns}, nil
}

// Refresh forgets what discovery said, so that resources served since (new
// CRDs) are found.
func (a *Applier) Refresh() { a.mapper.Reset() }

// Mapping returns the resource that serves gvk. The error wraps ErrNotServed
// when the server does not serve it.
func (a *Applier) Mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, fmt.Errorf("%s: %w", gvkString(gvk), ErrNotServed)
		}
		return nil, fmt.Errorf("map %s: %w", gvkString(gvk), err)
	}
	return m, nil
}

// Served reports whether the server serves gvk. Errors other than "not
// served" (discovery failing) are returned.
func (a *Applier) Served(gvk schema.GroupVersionKind) (bool, error) {
	_, err := a.Mapping(gvk)
	if errors.Is(err, ErrNotServed) {
		return false, nil
	}
	return err == nil, err
}

func gvkString(gvk schema.GroupVersionKind) string {
	if gvk.Group == "" {
		return gvk.Version + " " + gvk.Kind
	}
	return gvk.Group + "/" + gvk.Version + " " + gvk.Kind
}

// resourceFor returns the client for obj's resource and the namespace used.
func (a *Applier) resourceFor(obj *unstructured.Unstructured) (dynamic.ResourceInterface, string, error) {
	m, err := a.Mapping(obj.GroupVersionKind())
	if err != nil {
		return nil, "", err
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		return a.dyn.Resource(m.Resource), "", nil
	}
	ns := obj.GetNamespace()
	if ns == "" {
		ns = a.Namespace
	}
	return a.dyn.Resource(m.Resource).Namespace(ns), ns, nil
}

// Namespaced reports whether obj's kind is namespaced on the server.
func (a *Applier) Namespaced(gvk schema.GroupVersionKind) (bool, error) {
	m, err := a.Mapping(gvk)
	if err != nil {
		return false, err
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// Get returns the live copy of obj, or nil when it does not exist.
func (a *Applier) Get(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ri, _, err := a.resourceFor(obj)
	if err != nil {
		return nil, err
	}
	live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", describe(obj), err)
	}
	return live, nil
}

// List returns the live objects of gvk's resource in namespace (all of them
// for cluster-scoped kinds), reading every page.
func (a *Applier) List(ctx context.Context, gvk schema.GroupVersionKind, namespace string) ([]*unstructured.Unstructured, error) {
	m, err := a.Mapping(gvk)
	if err != nil {
		return nil, err
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if namespace == "" {
			namespace = a.Namespace
		}
		ri = a.dyn.Resource(m.Resource).Namespace(namespace)
	}
	var out []*unstructured.Unstructured
	opts := metav1.ListOptions{Limit: defaultPageSize}
	for {
		list, err := ri.List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list %s in %q: %w", m.Resource.Resource, namespace, err)
		}
		for i := range list.Items {
			out = append(out, &list.Items[i])
		}
		if list.GetContinue() == "" {
			return out, nil
		}
		opts.Continue = list.GetContinue()
	}
}

// ApplyOptions tune one server-side apply.
type ApplyOptions struct {
	// DryRun sends dryRun=All: the server validates, defaults and admits the
	// object and returns what it would store, storing nothing.
	DryRun bool
	// Force takes over fields another field manager owns. Without it, a
	// conflicting change fails with an error IsConflict recognises.
	Force bool
	// FieldManager applies as another field manager than FieldManager,
	// for a partial object that must not drop the fields the main apply
	// set (restore's owner references).
	FieldManager string
}

// Apply sends obj with server-side apply as field manager "shipshape" (or
// o.FieldManager) and returns what the server stored (or, with DryRun,
// would store). obj must carry no managedFields and no resourceVersion;
// Apply does not change it.
func (a *Applier) Apply(ctx context.Context, obj *unstructured.Unstructured, o ApplyOptions) (*unstructured.Unstructured, error) {
	ri, ns, err := a.resourceFor(obj)
	if err != nil {
		return nil, err
	}
	if obj.GetManagedFields() != nil || obj.GetResourceVersion() != "" {
		return nil, fmt.Errorf("apply %s: object carries managedFields or a resourceVersion", describe(obj))
	}
	send := obj
	if ns != "" && obj.GetNamespace() != ns {
		send = obj.DeepCopy()
		send.SetNamespace(ns)
	}
	body, err := send.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("apply %s: encode: %w", describe(obj), err)
	}
	po := metav1.PatchOptions{FieldManager: FieldManager}
	if o.FieldManager != "" {
		po.FieldManager = o.FieldManager
	}
	if o.Force {
		force := true
		po.Force = &force
	}
	if o.DryRun {
		po.DryRun = []string{metav1.DryRunAll}
	}
	out, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, po)
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", describe(obj), err)
	}
	return out, nil
}

// IsConflict reports whether err is a server-side apply conflict: a field
// the object sets is owned by another field manager with another value.
func IsConflict(err error) bool {
	return apierrors.IsConflict(err)
}

// ConflictManagers returns the field managers an apply conflict names, as
// the server reported them, sorted and without duplicates.
func ConflictManagers(err error) []string {
	var se apierrors.APIStatus
	if !errors.As(err, &se) || se.Status().Code != http.StatusConflict || se.Status().Details == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range se.Status().Details.Causes {
		// The server writes the manager as `conflict with "kubectl-edit"...`.
		m := c.Message
		if i := strings.Index(m, `"`); i >= 0 {
			if j := strings.Index(m[i+1:], `"`); j >= 0 {
				m = m[i+1 : i+1+j]
			}
		}
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// WaitCRD waits until the CustomResourceDefinition name has the conditions
// Established and NamesAccepted both True, polling every interval (0 means
// 200ms) until ctx ends. A CRD whose names are rejected fails at once.
func (a *Applier) WaitCRD(ctx context.Context, name string, interval time.Duration) error {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		crd, err := a.dyn.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("wait for CRD %s: %w", name, err)
		}
		if err == nil {
			established, accepted, reason := crdConditions(crd)
			if established && accepted {
				return nil
			}
			if reason != "" {
				return fmt.Errorf("CRD %s: names not accepted: %s", name, reason)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for CRD %s to be Established and NamesAccepted: %w", name, ctx.Err())
		case <-tick.C:
		}
	}
}

// crdConditions reads the two conditions; reason is set when NamesAccepted
// is False.
func crdConditions(crd *unstructured.Unstructured) (established, accepted bool, reason string) {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, _ := m["type"].(string)
		status, _ := m["status"].(string)
		switch typ {
		case "Established":
			established = status == "True"
		case "NamesAccepted":
			accepted = status == "True"
			if status == "False" {
				reason, _ = m["message"].(string)
				if reason == "" {
					reason, _ = m["reason"].(string)
				}
			}
		}
	}
	return established, accepted, reason
}

// describe names obj as kind namespace/name for errors.
func describe(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return obj.GetKind() + " " + ns + "/" + obj.GetName()
	}
	return obj.GetKind() + " " + obj.GetName()
}
