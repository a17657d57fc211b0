package cluster

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// fakeAPI is a minimal API server over HTTP: /version, aggregated discovery
// and paginated LIST of the resources it is given, in protobuf when asked and
// the items are typed, JSON otherwise. Tests intercept requests with hook.
type fakeAPI struct {
	t         *testing.T
	resources []fakeResource
	// stale group versions are announced as stale by aggregated discovery.
	stale []schema.GroupVersion
	// hook, when set, may answer a request itself and return true.
	hook func(w http.ResponseWriter, r *http.Request) bool

	mu       sync.Mutex
	requests []fakeRequest
	srv      *httptest.Server
}

type fakeRequest struct {
	Path, Query, Accept, UserAgent string
}

type fakeResource struct {
	GV         schema.GroupVersion
	Resource   string
	Kind       string
	Namespaced bool
	Verbs      []string
	// Items are typed objects for built-in kinds, *unstructured.Unstructured otherwise.
	Items []runtime.Object
}

func newFakeAPI(t *testing.T, f *fakeAPI) *fakeAPI {
	t.Helper()
	f.t = t
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) target(ns string) *Target {
	return &Target{Config: &rest.Config{Host: f.srv.URL}, Namespace: ns, Host: f.srv.URL}
}

// lists returns the recorded requests whose path is p.
func (f *fakeAPI) lists(p string) []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeRequest
	for _, r := range f.requests {
		if r.Path == p {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, fakeRequest{Path: r.URL.Path, Query: r.URL.RawQuery, Accept: r.Header.Get("Accept"), UserAgent: r.UserAgent()})
	f.mu.Unlock()
	if f.hook != nil && f.hook(w, r) {
		return
	}
	switch r.URL.Path {
	case "/version":
		writeJSON(w, http.StatusOK, map[string]string{"gitVersion": "v1.37.2", "platform": "linux/amd64"})
		return
	case "/api", "/apis":
		f.serveDiscovery(w, r.URL.Path == "/api")
		return
	}
	for _, res := range f.resources {
		if ns, ok := matchList(r.URL.Path, res); ok {
			f.serveList(w, r, res, ns)
			return
		}
	}
	writeStatus(w, apierrors.NewNotFound(schema.GroupResource{}, r.URL.Path))
}

func (f *fakeAPI) serveDiscovery(w http.ResponseWriter, core bool) {
	groups := map[string]*apidiscoveryv2.APIGroupDiscovery{}
	var order []string
	version := func(gv schema.GroupVersion) *apidiscoveryv2.APIVersionDiscovery {
		g, ok := groups[gv.Group]
		if !ok {
			g = &apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: gv.Group}}
			groups[gv.Group] = g
			order = append(order, gv.Group)
		}
		for i := range g.Versions {
			if g.Versions[i].Version == gv.Version {
				return &g.Versions[i]
			}
		}
		g.Versions = append(g.Versions, apidiscoveryv2.APIVersionDiscovery{Version: gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent})
		return &g.Versions[len(g.Versions)-1]
	}
	for _, res := range f.resources {
		if (res.GV.Group == "") != core {
			continue
		}
		scope := apidiscoveryv2.ScopeCluster
		if res.Namespaced {
			scope = apidiscoveryv2.ScopeNamespace
		}
		verbs := res.Verbs
		if verbs == nil {
			verbs = []string{"get", "list", "watch"}
		}
		v := version(res.GV)
		v.Resources = append(v.Resources, apidiscoveryv2.APIResourceDiscovery{
			Resource:     res.Resource,
			ResponseKind: &metav1.GroupVersionKind{Group: res.GV.Group, Version: res.GV.Version, Kind: res.Kind},
			Scope:        scope,
			Verbs:        verbs,
			Subresources: []apidiscoveryv2.APISubresourceDiscovery{{
				Subresource:  "status",
				ResponseKind: &metav1.GroupVersionKind{Group: res.GV.Group, Version: res.GV.Version, Kind: res.Kind},
				Verbs:        []string{"get"},
			}},
		})
	}
	for _, gv := range f.stale {
		if (gv.Group == "") != core {
			continue
		}
		version(gv).Freshness = apidiscoveryv2.DiscoveryFreshnessStale
	}
	list := apidiscoveryv2.APIGroupDiscoveryList{
		TypeMeta: metav1.TypeMeta{APIVersion: "apidiscovery.k8s.io/v2", Kind: "APIGroupDiscoveryList"},
	}
	for _, name := range order {
		list.Items = append(list.Items, *groups[name])
	}
	w.Header().Set("Content-Type", discovery.AcceptV2)
	if err := json.NewEncoder(w).Encode(list); err != nil {
		f.t.Errorf("encode discovery: %v", err)
	}
}

// matchList reports whether path lists res, and in which namespace.
func matchList(path string, res fakeResource) (string, bool) {
	prefix := "/apis/" + res.GV.Group + "/" + res.GV.Version + "/"
	if res.GV.Group == "" {
		prefix = "/api/" + res.GV.Version + "/"
	}
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return "", false
	}
	if rest == res.Resource {
		return "", true
	}
	parts := strings.Split(rest, "/")
	if res.Namespaced && len(parts) == 3 && parts[0] == "namespaces" && parts[2] == res.Resource {
		return parts[1], true
	}
	return "", false
}

// serveList answers a LIST with limit/continue; the continue token is the
// index of the next item.
func (f *fakeAPI) serveList(w http.ResponseWriter, r *http.Request, res fakeResource, ns string) {
	var items []runtime.Object
	for _, it := range res.Items {
		m, err := meta.Accessor(it)
		if err != nil {
			f.t.Errorf("accessor: %v", err)
			return
		}
		if ns == "" || m.GetNamespace() == ns {
			items = append(items, it)
		}
	}
	start, _ := strconv.Atoi(r.URL.Query().Get("continue"))
	end := len(items)
	if limit, _ := strconv.Atoi(r.URL.Query().Get("limit")); limit > 0 && start+limit < end {
		end = start + limit
	}
	cont := ""
	if end < len(items) {
		cont = strconv.Itoa(end)
	}
	page := items[start:end]

	listGVK := res.GV.WithKind(res.Kind + "List")
	if scheme.Scheme.Recognizes(listGVK) {
		list, err := scheme.Scheme.New(listGVK)
		if err != nil {
			f.t.Errorf("new list: %v", err)
			return
		}
		if err := meta.SetList(list, page); err != nil {
			f.t.Errorf("set list: %v", err)
			return
		}
		la, _ := meta.ListAccessor(list)
		la.SetContinue(cont)
		la.SetResourceVersion("1")
		mediaType := runtime.ContentTypeJSON
		if strings.Contains(r.Header.Get("Accept"), runtime.ContentTypeProtobuf) {
			mediaType = runtime.ContentTypeProtobuf
		}
		info, _ := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), mediaType)
		body, err := runtime.Encode(scheme.Codecs.EncoderForVersion(info.Serializer, res.GV), list)
		if err != nil {
			f.t.Errorf("encode list: %v", err)
			return
		}
		w.Header().Set("Content-Type", mediaType)
		_, _ = w.Write(body)
		return
	}
	list := &unstructured.UnstructuredList{Object: map[string]any{
		"apiVersion": res.GV.String(),
		"kind":       res.Kind + "List",
		"metadata":   map[string]any{"continue": cont, "resourceVersion": "1"},
	}}
	for _, it := range page {
		list.Items = append(list.Items, *it.(*unstructured.Unstructured))
	}
	body, err := list.MarshalJSON()
	if err != nil {
		f.t.Errorf("encode list: %v", err)
		return
	}
	w.Header().Set("Content-Type", runtime.ContentTypeJSON)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", runtime.ContentTypeJSON)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeStatus answers with err's Status, as the API server does.
func writeStatus(w http.ResponseWriter, err *apierrors.StatusError) {
	st := err.Status()
	st.APIVersion, st.Kind = "v1", "Status"
	writeJSON(w, int(st.Code), st)
}
