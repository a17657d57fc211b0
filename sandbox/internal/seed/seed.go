// Package seed applies every manifest found in a directory to a cluster
// with server-side apply: CustomResourceDefinitions first (waiting until
// they are established), then namespaces, then everything else in a
// dependency-friendly kind order, retrying objects whose prerequisites are
// not ready yet.
package seed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the server-side apply field manager used for seeding.
const FieldManager = "shipshape-sandbox"

// kindOrder ranks kinds so that prerequisites are applied first; unknown
// kinds (including custom resources) come after the ranked ones, and
// admission webhooks and API services come last because they can block
// or break requests for other objects.
func kindOrder() []string {
	return []string{
		"Namespace", "ResourceQuota", "LimitRange", "PriorityClass", "StorageClass",
		"ServiceAccount", "Secret", "ConfigMap", "PersistentVolume", "PersistentVolumeClaim",
		"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
		"NetworkPolicy", "PodDisruptionBudget", "Service", "IngressClass",
		"DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
		"StatefulSet", "Job", "CronJob", "HorizontalPodAutoscaler", "Ingress",
	}
}

func lastKinds() []string {
	return []string{
		"APIService", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
		"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
	}
}

func rank(kind string) int {
	for i, k := range kindOrder() {
		if k == kind {
			return i
		}
	}
	for i, k := range lastKinds() {
		if k == kind {
			return 1000 + i
		}
	}
	return 500
}

// Object is one decoded manifest with its origin.
type Object struct {
	Source string
	Obj    *unstructured.Unstructured
}

func (o Object) String() string {
	ns := o.Obj.GetNamespace()
	if ns != "" {
		ns += "/"
	}
	return fmt.Sprintf("%s %s%s (%s)", o.Obj.GetKind(), ns, o.Obj.GetName(), o.Source)
}

// Load reads every .yaml, .yml and .json file below dir (sorted by path)
// and splits multi-document files and List kinds into objects.
func Load(dir string) ([]Object, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(dir, f)
		objs, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		for _, o := range objs {
			if err := generateTLS(o, time.Now()); err != nil {
				return nil, fmt.Errorf("%s: %w", rel, err)
			}
			out = append(out, Object{Source: rel, Obj: o})
		}
	}
	return out, nil
}

func decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.IsList() {
			list, err := u.ToList()
			if err != nil {
				return nil, err
			}
			for i := range list.Items {
				out = append(out, &list.Items[i])
			}
			continue
		}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, errors.New("document without apiVersion or kind")
		}
		if u.GetName() == "" {
			return nil, fmt.Errorf("%s without metadata.name (server-side apply needs a name)", u.GetKind())
		}
		out = append(out, u)
	}
}

func isCRD(o Object) bool {
	return o.Obj.GetKind() == "CustomResourceDefinition" && o.Obj.GroupVersionKind().Group == "apiextensions.k8s.io"
}

// Apply loads the manifests below dir and applies them to the cluster.
// It returns the number of objects applied.
func Apply(ctx context.Context, cfg *rest.Config, dir string) (int, error) {
	objs, err := Load(dir)
	if err != nil {
		return 0, err
	}
	if len(objs) == 0 {
		return 0, fmt.Errorf("no manifests found in %s", dir)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return 0, err
	}
	a := &applier{
		dyn:    dyn,
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
	}

	var crds, namespaces, others []Object
	for _, o := range objs {
		switch {
		case isCRD(o):
			crds = append(crds, o)
		case o.Obj.GetKind() == "Namespace" && o.Obj.GroupVersionKind().Group == "":
			namespaces = append(namespaces, o)
		default:
			others = append(others, o)
		}
	}
	sort.SliceStable(others, func(i, j int) bool { return rank(others[i].Obj.GetKind()) < rank(others[j].Obj.GetKind()) })

	if err := a.applyAll(ctx, crds, 30*time.Second); err != nil {
		return 0, err
	}
	if len(crds) > 0 {
		if err := a.waitEstablished(ctx, crds, time.Minute); err != nil {
			return 0, err
		}
		a.mapper.Reset()
	}
	if err := a.applyAll(ctx, namespaces, 30*time.Second); err != nil {
		return 0, err
	}
	if err := a.applyAll(ctx, others, 90*time.Second); err != nil {
		return 0, err
	}
	return len(objs), nil
}

type applier struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// applyAll applies objs in order, retrying failures in further passes
// until all succeed or the budget is spent.
func (a *applier) applyAll(ctx context.Context, objs []Object, budget time.Duration) error {
	deadline := time.Now().Add(budget)
	pending := objs
	for len(pending) > 0 {
		var failed []Object
		var errs []error
		for _, o := range pending {
			if err := a.apply(ctx, o); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				failed = append(failed, o)
				errs = append(errs, fmt.Errorf("%s: %w", o, err))
			}
		}
		if len(failed) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("seeding failed: %w", errors.Join(errs...))
		}
		pending = failed
		a.mapper.Reset()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (a *applier) resource(o Object) (dynamic.ResourceInterface, error) {
	gvk := o.Obj.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := o.Obj.GetNamespace()
		if ns == "" {
			ns = metav1.NamespaceDefault
			o.Obj.SetNamespace(ns)
		}
		return a.dyn.Resource(m.Resource).Namespace(ns), nil
	}
	return a.dyn.Resource(m.Resource), nil
}

func (a *applier) apply(ctx context.Context, o Object) error {
	ri, err := a.resource(o)
	if err != nil {
		return err
	}
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	if _, err := ri.Apply(ctx, o.Obj.GetName(), o.Obj, opts); err != nil {
		return err
	}
	// Seed the status too when the manifest carries one, so that demo
	// objects can start out in a particular state. Resources without a
	// status subresource already took it from the main apply.
	if st, ok := o.Obj.Object["status"].(map[string]any); ok && len(st) > 0 {
		_, err := ri.ApplyStatus(ctx, o.Obj.GetName(), o.Obj, opts)
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
			return fmt.Errorf("status: %w", err)
		}
	}
	return nil
}

func (a *applier) waitEstablished(ctx context.Context, crds []Object, budget time.Duration) error {
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	deadline := time.Now().Add(budget)
	for _, o := range crds {
		for {
			u, err := a.dyn.Resource(crdGVR).Get(ctx, o.Obj.GetName(), metav1.GetOptions{})
			if err == nil && established(u) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CustomResourceDefinition %s not established in time (last error: %v)", o.Obj.GetName(), err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
