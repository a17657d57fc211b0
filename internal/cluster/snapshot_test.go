package cluster

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

var (
	coreV1 = schema.GroupVersion{Version: "v1"}
	appsV1 = schema.GroupVersion{Group: "apps", Version: "v1"}
)

// fastRetry keeps unit tests quick while still exercising the backoff.
func fastRetry() tuning { return tuning{retry: retryPolicy{attempts: 4, base: time.Millisecond}} }

func configMaps(ns string, n int) []runtime.Object {
	out := make([]runtime.Object, n)
	for i := range out {
		out[i] = &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%03d", i), Namespace: ns},
			Data:       map[string]string{"i": fmt.Sprint(i)},
		}
	}
	return out
}

func configMapResource(items ...runtime.Object) fakeResource {
	return fakeResource{GV: coreV1, Resource: "configmaps", Kind: "ConfigMap", Namespaced: true, Items: items}
}

func secretResource(items ...runtime.Object) fakeResource {
	return fakeResource{GV: coreV1, Resource: "secrets", Kind: "Secret", Namespaced: true, Items: items}
}

// ids lists "apiVersion kind namespace/name" of every object.
func ids(s *snapshot.Snapshot) []string {
	out := make([]string, len(s.Objects))
	for i, o := range s.Objects {
		out[i] = fmt.Sprintf("%s %s %s/%s", o.GetAPIVersion(), o.GetKind(), o.GetNamespace(), o.GetName())
	}
	return out
}

func wantIDs(apiVersion, kind, ns string, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%s %s %s/%s", apiVersion, kind, ns, n)
	}
	return out
}

func cmNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("cm-%03d", i)
	}
	return out
}

func TestSnapshotReadsServerResourcesAndObjects(t *testing.T) {
	for _, protobuf := range []bool{false, true} {
		t.Run(fmt.Sprintf("protobuf=%v", protobuf), func(t *testing.T) {
			dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "prod"}}
			f := newFakeAPI(t, &fakeAPI{resources: []fakeResource{
				configMapResource(configMaps("prod", 3)...),
				{GV: appsV1, Resource: "deployments", Kind: "Deployment", Namespaced: true, Items: []runtime.Object{dep}},
				{GV: coreV1, Resource: "namespaces", Kind: "Namespace", Items: []runtime.Object{
					&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "prod"}},
				}},
				{GV: coreV1, Resource: "bindings", Kind: "Binding", Namespaced: true, Verbs: []string{"create"}},
			}})
			tn := fastRetry()
			tn.protobuf = protobuf
			s, err := snapshotWith(context.Background(), f.target("prod"), SnapshotOptions{}, tn)
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			if s.Source != snapshot.SourceCluster {
				t.Errorf("Source = %q, want %q", s.Source, snapshot.SourceCluster)
			}
			wantServer := &snapshot.Server{Host: f.srv.URL, Namespace: "prod", GitVersion: "v1.37.2", Platform: "linux/amd64"}
			if diff := cmp.Diff(wantServer, s.Server); diff != "" {
				t.Errorf("Server (-want +got):\n%s", diff)
			}
			wantRes := []snapshot.Resource{
				{Version: "v1", Resource: "configmaps", Kind: "ConfigMap", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
				{Version: "v1", Resource: "namespaces", Kind: "Namespace", Verbs: []string{"get", "list", "watch"}},
				{Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
			}
			if diff := cmp.Diff(wantRes, s.Resources); diff != "" {
				t.Errorf("Resources (-want +got):\n%s", diff)
			}
			want := slices.Concat(
				wantIDs("v1", "ConfigMap", "prod", cmNames(3)...),
				wantIDs("v1", "Namespace", "", "prod"),
				wantIDs("apps/v1", "Deployment", "prod", "web"),
			)
			if diff := cmp.Diff(want, ids(s)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if s.Partial() {
				t.Errorf("snapshot is partial: %v", s.Gaps)
			}
			// Namespaced resources are read in the target namespace only,
			// cluster-scoped ones in full.
			if got := len(f.lists("/api/v1/namespaces/prod/configmaps")); got != 1 {
				t.Errorf("namespaced configmaps LISTs = %d, want 1", got)
			}
			nsLists := f.lists("/api/v1/namespaces")
			if len(nsLists) != 1 {
				t.Fatalf("namespaces LISTs = %d, want 1", len(nsLists))
			}
			wantProto := protobuf
			if got := strings.HasPrefix(nsLists[0].Accept, contentTypeProtobuf); got != wantProto {
				t.Errorf("Accept = %q, protobuf %v, want %v", nsLists[0].Accept, got, wantProto)
			}
			if !strings.HasPrefix(nsLists[0].UserAgent, "shipshape/") {
				t.Errorf("User-Agent = %q, want shipshape/...", nsLists[0].UserAgent)
			}
			// The unstructured content is what the server sent.
			for _, o := range s.Objects {
				if o.GetKind() != "ConfigMap" || o.GetName() != "cm-002" {
					continue
				}
				data, _, _ := unstructured.NestedStringMap(o.Object, "data")
				if diff := cmp.Diff(map[string]string{"i": "2"}, data); diff != "" {
					t.Errorf("cm-002 data (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestSnapshotPaginates(t *testing.T) {
	f := newFakeAPI(t, &fakeAPI{resources: []fakeResource{configMapResource(configMaps("", 7)...)}})
	tg := f.target("")
	tg.AllNamespaces = true
	s, err := snapshotWith(context.Background(), tg, SnapshotOptions{PageSize: 3}, fastRetry())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if diff := cmp.Diff(wantIDs("v1", "ConfigMap", "", cmNames(7)...), ids(s)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	var queries []string
	for _, r := range f.lists("/api/v1/configmaps") {
		queries = append(queries, r.Query)
	}
	want := []string{"limit=3", "continue=3&limit=3", "continue=6&limit=3"}
	if diff := cmp.Diff(want, queries); diff != "" {
		t.Errorf("LIST queries (-want +got):\n%s", diff)
	}
}

func TestSnapshotRelistsOnceWhenContinueExpires(t *testing.T) {
	f := &fakeAPI{resources: []fakeResource{configMapResource(configMaps("", 5)...)}}
	var expired atomic.Int32
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v1/configmaps" && r.URL.Query().Get("continue") != "" && expired.Add(1) == 1 {
			writeStatus(w, apierrors.NewResourceExpired("continue token expired"))
			return true
		}
		return false
	}
	newFakeAPI(t, f)
	tg := f.target("")
	tg.AllNamespaces = true
	s, err := snapshotWith(context.Background(), tg, SnapshotOptions{PageSize: 2}, fastRetry())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if diff := cmp.Diff(wantIDs("v1", "ConfigMap", "", cmNames(5)...), ids(s)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	var queries []string
	for _, r := range f.lists("/api/v1/configmaps") {
		queries = append(queries, r.Query)
	}
	// First page, the expired second page, then one unpaginated relist.
	want := []string{"limit=2", "continue=2&limit=2", ""}
	if diff := cmp.Diff(want, queries); diff != "" {
		t.Errorf("LIST queries (-want +got):\n%s", diff)
	}
}

// TestSnapshotHonoursRetryAfter checks that a LIST answered 429 with
// Retry-After is retried after the delay and the snapshot completes.
func TestSnapshotHonoursRetryAfter(t *testing.T) {
	f := &fakeAPI{resources: []fakeResource{configMapResource(configMaps("ns", 2)...)}}
	var throttled atomic.Int32
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v1/namespaces/ns/configmaps" && throttled.Add(1) <= 2 {
			w.Header().Set("Retry-After", "1")
			writeStatus(w, apierrors.NewTooManyRequests("slow down", 1))
			return true
		}
		return false
	}
	newFakeAPI(t, f)
	start := time.Now()
	// Default tuning: the retries here are client-go's, not retryPolicy's.
	s, err := Snapshot(context.Background(), f.target("ns"), SnapshotOptions{})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if diff := cmp.Diff(wantIDs("v1", "ConfigMap", "ns", cmNames(2)...), ids(s)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if s.Partial() {
		t.Errorf("snapshot is partial: %v", s.Gaps)
	}
	if got := len(f.lists("/api/v1/namespaces/ns/configmaps")); got != 3 {
		t.Errorf("LIST requests = %d, want 3 (two 429s, one success)", got)
	}
	if elapsed := time.Since(start); elapsed < 2*time.Second {
		t.Errorf("snapshot took %v; two Retry-After: 1 answers should make it wait at least 2s", elapsed)
	}
}

func TestSnapshotRetriesTransientServerErrors(t *testing.T) {
	f := &fakeAPI{resources: []fakeResource{configMapResource(configMaps("ns", 2)...)}}
	var failures atomic.Int32
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		// 503 without Retry-After: client-go gives up at once, retryPolicy must not.
		if r.URL.Path == "/api/v1/namespaces/ns/configmaps" && failures.Add(1) <= 2 {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	newFakeAPI(t, f)
	s, err := snapshotWith(context.Background(), f.target("ns"), SnapshotOptions{}, fastRetry())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if s.Partial() || len(s.Objects) != 2 {
		t.Errorf("got %d objects, gaps %v; want 2 objects, no gaps", len(s.Objects), s.Gaps)
	}
	if got := len(f.lists("/api/v1/namespaces/ns/configmaps")); got != 3 {
		t.Errorf("LIST requests = %d, want 3", got)
	}
}

func TestSnapshotPersistentServerErrorIsGap(t *testing.T) {
	f := &fakeAPI{resources: []fakeResource{
		configMapResource(configMaps("ns", 1)...),
		secretResource(),
	}}
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v1/namespaces/ns/secrets" {
			writeStatus(w, apierrors.NewInternalError(fmt.Errorf("etcd is sad")))
			return true
		}
		return false
	}
	newFakeAPI(t, f)
	s, err := snapshotWith(context.Background(), f.target("ns"), SnapshotOptions{}, fastRetry())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if len(s.Gaps) != 1 || s.Gaps[0].Source != "secrets" || !strings.HasPrefix(s.Gaps[0].Reason, "list failed: ") || !strings.Contains(s.Gaps[0].Reason, "etcd is sad") {
		t.Errorf("gaps = %v, want one secrets gap 'list failed: ... etcd is sad'", s.Gaps)
	}
	if got := len(f.lists("/api/v1/namespaces/ns/secrets")); got != 4 {
		t.Errorf("secrets LIST requests = %d, want 4 (retryPolicy attempts)", got)
	}
	if len(s.Objects) != 1 {
		t.Errorf("objects = %v, want the configmap", ids(s))
	}
}

func TestSnapshotForbiddenResourceIsGap(t *testing.T) {
	f := &fakeAPI{resources: []fakeResource{
		configMapResource(configMaps("ns", 2)...),
		secretResource(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}}),
	}}
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v1/namespaces/ns/secrets" {
			writeStatus(w, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "",
				fmt.Errorf(`User "ci" cannot list resource "secrets" in API group "" in the namespace "ns"`)))
			return true
		}
		return false
	}
	newFakeAPI(t, f)
	s, err := snapshotWith(context.Background(), f.target("ns"), SnapshotOptions{}, fastRetry())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	wantGaps := []snapshot.Gap{{
		Source: "secrets",
		Reason: `forbidden: User "ci" cannot list resource "secrets" in API group "" in the namespace "ns"`,
	}}
	if diff := cmp.Diff(wantGaps, s.Gaps); diff != "" {
		t.Errorf("gaps (-want +got):\n%s", diff)
	}
	if !s.Partial() {
		t.Error("snapshot with a forbidden resource is not partial")
	}
	if diff := cmp.Diff(wantIDs("v1", "ConfigMap", "ns", cmNames(2)...), ids(s)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if got := len(f.lists("/api/v1/namespaces/ns/secrets")); got != 1 {
		t.Errorf("secrets LIST requests = %d, want 1 (403 is not retried)", got)
	}
}

func TestSnapshotStaleAggregatedAPIIsGap(t *testing.T) {
	metrics := schema.GroupVersion{Group: "metrics.k8s.io", Version: "v1beta1"}
	f := newFakeAPI(t, &fakeAPI{
		resources: []fakeResource{configMapResource(configMaps("ns", 1)...)},
		stale:     []schema.GroupVersion{metrics},
	})
	s, err := snapshotWith(context.Background(), f.target("ns"), SnapshotOptions{}, fastRetry())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if len(s.Gaps) != 1 || s.Gaps[0].Source != "metrics.k8s.io/v1beta1" || !strings.HasPrefix(s.Gaps[0].Reason, "discovery failed: ") {
		t.Errorf("gaps = %v, want one metrics.k8s.io/v1beta1 discovery gap", s.Gaps)
	}
	if len(s.Objects) != 1 {
		t.Errorf("objects = %v, want the configmap", ids(s))
	}
}

func TestSnapshotFilter(t *testing.T) {
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}}
	f := newFakeAPI(t, &fakeAPI{resources: []fakeResource{
		configMapResource(configMaps("ns", 1)...),
		secretResource(),
		{GV: appsV1, Resource: "deployments", Kind: "Deployment", Namespaced: true, Items: []runtime.Object{dep}},
	}})
	var progress []string
	opts := SnapshotOptions{
		Resources: []schema.GroupResource{{Resource: "configmaps"}},
		Kinds:     []schema.GroupKind{{Group: "apps", Kind: "Deployment"}},
		Progress: func(done, total int, resource string) {
			progress = append(progress, fmt.Sprintf("%d/%d", done, total))
		},
	}
	s, err := snapshotWith(context.Background(), f.target("ns"), opts, fastRetry())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	want := slices.Concat(wantIDs("v1", "ConfigMap", "ns", "cm-000"), wantIDs("apps/v1", "Deployment", "ns", "web"))
	if diff := cmp.Diff(want, ids(s)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if got := len(f.lists("/api/v1/namespaces/ns/secrets")); got != 0 {
		t.Errorf("secrets were listed %d times though not selected", got)
	}
	if len(s.Resources) != 3 {
		t.Errorf("Resources = %v, want all 3 discovered", s.Resources)
	}
	if diff := cmp.Diff([]string{"1/2", "2/2"}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func TestSnapshotConnectionErrors(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		f := newFakeAPI(t, &fakeAPI{})
		f.srv.Close()
		_, err := snapshotWith(context.Background(), f.target("ns"), SnapshotOptions{}, fastRetry())
		if err == nil || !strings.HasPrefix(err.Error(), "connect to "+f.srv.URL+": ") {
			t.Errorf("err = %v, want 'connect to %s: ...'", err, f.srv.URL)
		}
	})
	t.Run("unauthorized", func(t *testing.T) {
		f := &fakeAPI{}
		f.hook = func(w http.ResponseWriter, r *http.Request) bool {
			writeStatus(w, apierrors.NewUnauthorized("Unauthorized"))
			return true
		}
		newFakeAPI(t, f)
		_, err := snapshotWith(context.Background(), f.target("ns"), SnapshotOptions{}, fastRetry())
		if err == nil || !apierrors.IsUnauthorized(err) || !strings.HasPrefix(err.Error(), "connect to ") {
			t.Errorf("err = %v, want an unauthorized 'connect to ...' error", err)
		}
	})
	t.Run("unauthorized while listing", func(t *testing.T) {
		f := &fakeAPI{resources: []fakeResource{configMapResource()}}
		f.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, "/configmaps") {
				writeStatus(w, apierrors.NewUnauthorized("token expired"))
				return true
			}
			return false
		}
		newFakeAPI(t, f)
		_, err := snapshotWith(context.Background(), f.target("ns"), SnapshotOptions{}, fastRetry())
		if err == nil || !apierrors.IsUnauthorized(err) {
			t.Errorf("err = %v, want unauthorized", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		f := newFakeAPI(t, &fakeAPI{resources: []fakeResource{configMapResource()}})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := snapshotWith(ctx, f.target("ns"), SnapshotOptions{}, fastRetry())
		if err == nil {
			t.Error("snapshot with a canceled context succeeded")
		}
	})
}

func TestSnapshotUndecodablePageIsGap(t *testing.T) {
	f := &fakeAPI{resources: []fakeResource{configMapResource(configMaps("ns", 5)...), secretResource()}}
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		// The second page is cut off after its metadata: the continue
		// token reads, the items do not.
		if r.URL.Path == "/api/v1/namespaces/ns/configmaps" && r.URL.Query().Get("continue") != "" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"continue":"4"},"items":[{"metadata":`))
			return true
		}
		return false
	}
	newFakeAPI(t, f)
	s, err := snapshotWith(context.Background(), f.target("ns"), SnapshotOptions{PageSize: 2}, fastRetry())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if len(s.Gaps) != 1 || s.Gaps[0].Source != "configmaps" || !strings.HasPrefix(s.Gaps[0].Reason, "decode list: ") {
		t.Errorf("gaps = %v, want one configmaps 'decode list: ...' gap", s.Gaps)
	}
	for _, o := range s.Objects {
		if o.GetKind() == "ConfigMap" {
			t.Errorf("partly read resource contributed %s; want all or nothing", o.GetName())
		}
	}
}
