package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func apiResource(name, kind string, namespaced bool, verbs ...string) metav1.APIResource {
	return metav1.APIResource{Name: name, Kind: kind, Namespaced: namespaced, Verbs: verbs}
}

func TestPreferredResources(t *testing.T) {
	groups := []*metav1.APIGroup{
		{
			Name:             "",
			Versions:         []metav1.GroupVersionForDiscovery{{GroupVersion: "v1", Version: "v1"}},
			PreferredVersion: metav1.GroupVersionForDiscovery{GroupVersion: "v1", Version: "v1"},
		},
		{
			Name: "autoscaling",
			Versions: []metav1.GroupVersionForDiscovery{
				{GroupVersion: "autoscaling/v2", Version: "v2"},
				{GroupVersion: "autoscaling/v1", Version: "v1"},
			},
			PreferredVersion: metav1.GroupVersionForDiscovery{GroupVersion: "autoscaling/v2", Version: "v2"},
		},
		{
			Name: "events.k8s.io",
			Versions: []metav1.GroupVersionForDiscovery{
				{GroupVersion: "events.k8s.io/v1", Version: "v1"},
			},
			PreferredVersion: metav1.GroupVersionForDiscovery{GroupVersion: "events.k8s.io/v1", Version: "v1"},
		},
		{
			// A CRD group whose preferred version is listed last.
			Name: "example.com",
			Versions: []metav1.GroupVersionForDiscovery{
				{GroupVersion: "example.com/v1alpha1", Version: "v1alpha1"},
				{GroupVersion: "example.com/v1", Version: "v1"},
			},
			PreferredVersion: metav1.GroupVersionForDiscovery{GroupVersion: "example.com/v1", Version: "v1"},
		},
	}
	lists := []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			apiResource("pods", "Pod", true, "get", "list", "watch"),
			apiResource("pods/status", "Pod", true, "get", "list"),
			apiResource("events", "Event", true, "list"),
			apiResource("bindings", "Binding", true, "create"),
			apiResource("namespaces", "Namespace", false, "list"),
		}},
		{GroupVersion: "autoscaling/v1", APIResources: []metav1.APIResource{
			apiResource("horizontalpodautoscalers", "HorizontalPodAutoscaler", true, "list"),
		}},
		{GroupVersion: "autoscaling/v2", APIResources: []metav1.APIResource{
			apiResource("horizontalpodautoscalers", "HorizontalPodAutoscaler", true, "list"),
		}},
		{GroupVersion: "events.k8s.io/v1", APIResources: []metav1.APIResource{
			apiResource("events", "Event", true, "list"),
		}},
		{GroupVersion: "example.com/v1alpha1", APIResources: []metav1.APIResource{
			apiResource("widgets", "Widget", true, "list"),
			apiResource("gadgets", "Gadget", false, "list"), // only served in v1alpha1
		}},
		{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
			apiResource("widgets", "Widget", true, "list"),
		}},
		nil,
	}
	want := []snapshot.Resource{
		{Version: "v1", Resource: "pods", Kind: "Pod", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
		{Version: "v1", Resource: "events", Kind: "Event", Namespaced: true, Verbs: []string{"list"}},
		{Version: "v1", Resource: "namespaces", Kind: "Namespace", Verbs: []string{"list"}},
		{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers", Kind: "HorizontalPodAutoscaler", Namespaced: true, Verbs: []string{"list"}},
		{Group: "events.k8s.io", Version: "v1", Resource: "events", Kind: "Event", Namespaced: true, Verbs: []string{"list"}},
		{Group: "example.com", Version: "v1", Resource: "widgets", Kind: "Widget", Namespaced: true, Verbs: []string{"list"}},
		{Group: "example.com", Version: "v1alpha1", Resource: "gadgets", Kind: "Gadget", Verbs: []string{"list"}},
	}
	if diff := cmp.Diff(want, preferredResources(groups, lists)); diff != "" {
		t.Errorf("preferredResources (-want +got):\n%s", diff)
	}
}

func TestSelectResources(t *testing.T) {
	all := []snapshot.Resource{
		{Version: "v1", Resource: "configmaps", Kind: "ConfigMap"},
		{Version: "v1", Resource: "secrets", Kind: "Secret"},
		{Version: "v1", Resource: "events", Kind: "Event"},
		{Group: "events.k8s.io", Version: "v1", Resource: "events", Kind: "Event"},
		{Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment"},
	}
	tests := []struct {
		name string
		grs  []schema.GroupResource
		gks  []schema.GroupKind
		want []snapshot.Resource
	}{
		{name: "no filter", want: all},
		{
			name: "group resources",
			grs:  []schema.GroupResource{{Resource: "secrets"}, {Group: "events.k8s.io", Resource: "events"}},
			want: []snapshot.Resource{all[1], all[3]},
		},
		{
			name: "kinds",
			gks:  []schema.GroupKind{{Group: "apps", Kind: "Deployment"}, {Kind: "Event"}},
			want: []snapshot.Resource{all[2], all[4]},
		},
		{
			name: "unserved names select nothing",
			grs:  []schema.GroupResource{{Group: "example.com", Resource: "widgets"}},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, selectResources(all, tt.grs, tt.gks)); diff != "" {
				t.Errorf("selectResources (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiscoveryGaps(t *testing.T) {
	metrics := schema.GroupVersion{Group: "metrics.k8s.io", Version: "v1beta1"}
	broken := schema.GroupVersion{Group: "broken.example.com", Version: "v1"}
	got := discoveryGaps(map[schema.GroupVersion]error{
		metrics: discovery.StaleGroupVersionError{},
		broken:  apierrors.NewServiceUnavailable("the server is currently unable to handle the request"),
	})
	want := []snapshot.Gap{
		{Source: "broken.example.com/v1", Reason: "discovery failed: the server is currently unable to handle the request"},
		{Source: "metrics.k8s.io/v1beta1", Reason: "discovery failed: marked stale by the API server: the APIService's backend is unavailable"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("discoveryGaps (-want +got):\n%s", diff)
	}
}

func TestClassify(t *testing.T) {
	secrets := snapshot.Resource{Version: "v1", Resource: "secrets", Kind: "Secret", Namespaced: true}
	deployments := snapshot.Resource{Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment", Namespaced: true}
	const host = "https://k8s.example:6443"
	tests := []struct {
		name     string
		r        snapshot.Resource
		err      error
		wantGap  snapshot.Gap
		wantFail string
	}{
		{
			name: "forbidden core",
			r:    secrets,
			err:  apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New(`User "u" cannot list resource "secrets"`)),
			wantGap: snapshot.Gap{
				Source: "secrets",
				Reason: `forbidden: User "u" cannot list resource "secrets"`,
			},
		},
		{
			name: "forbidden group",
			r:    deployments,
			err:  apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "", errors.New("no")),
			wantGap: snapshot.Gap{
				Source: "apps/deployments",
				Reason: "forbidden: no",
			},
		},
		{
			name:    "server error",
			r:       deployments,
			err:     apierrors.NewServiceUnavailable("backend down"),
			wantGap: snapshot.Gap{Source: "apps/deployments", Reason: "list failed: backend down"},
		},
		{
			name:    "undecodable",
			r:       secrets,
			err:     &decodeError{errors.New("bad bytes")},
			wantGap: snapshot.Gap{Source: "secrets", Reason: "decode list: bad bytes"},
		},
		{
			name:     "unauthorized",
			r:        secrets,
			err:      apierrors.NewUnauthorized("Unauthorized"),
			wantFail: "list secrets on " + host + ": credentials rejected: Unauthorized",
		},
		{
			name:     "connection refused",
			r:        secrets,
			err:      &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
			wantFail: "connect to " + host + ": list secrets: dial tcp: connection refused",
		},
		{
			name:     "canceled",
			r:        secrets,
			err:      fmt.Errorf("get: %w", context.Canceled),
			wantFail: "list secrets: get: context canceled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gap, err := classify(tt.r, host, tt.err)
			if tt.wantFail != "" {
				if err == nil || err.Error() != tt.wantFail {
					t.Fatalf("classify error = %v, want %q", err, tt.wantFail)
				}
				if !errors.Is(err, tt.err) {
					t.Errorf("classify error does not wrap %v", tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("classify error = %v, want a gap", err)
			}
			if diff := cmp.Diff(tt.wantGap, gap); diff != "" {
				t.Errorf("gap (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"503 without Retry-After", apierrors.NewGenericServerResponse(503, "get", schema.GroupResource{}, "", "", 0, true), true},
		{"503 with Retry-After", apierrors.NewGenericServerResponse(503, "get", schema.GroupResource{}, "", "", 1, true), false},
		{"429 without Retry-After", apierrors.NewGenericServerResponse(429, "get", schema.GroupResource{}, "", "", 0, true), true},
		{"429 with Retry-After", apierrors.NewTooManyRequests("slow", 1), false},
		{"500", apierrors.NewInternalError(errors.New("etcd")), true},
		{"501", apierrors.NewGenericServerResponse(501, "get", schema.GroupResource{}, "", "", 0, true), false},
		{"403", apierrors.NewForbidden(schema.GroupResource{}, "", errors.New("no")), false},
		{"410", apierrors.NewResourceExpired("expired"), false},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"canceled", context.Canceled, false},
		{"other", errors.New("x509: certificate signed by unknown authority"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transient(tt.err); got != tt.want {
				t.Errorf("transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestRetryPolicyStopsAtAttempts(t *testing.T) {
	p := retryPolicy{attempts: 3, base: 0}
	calls := 0
	failure := apierrors.NewInternalError(errors.New("etcd"))
	err := p.do(context.Background(), func() error { calls++; return failure })
	if !errors.Is(err, failure) {
		t.Errorf("err = %v, want the last failure", err)
	}
	if calls != 3 {
		t.Errorf("calls = %d, want 3", calls)
	}
}

func TestJSONContinue(t *testing.T) {
	tests := []struct {
		body    string
		want    string
		wantErr bool
	}{
		{body: `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"abc"},"items":[{"metadata":{"name":"a"}}]}`, want: "abc"},
		{body: `{"items":[{"metadata":{"continue":"not-this"}}],"metadata":{"continue":"xyz"}}`, want: "xyz"},
		{body: `{"kind":"ConfigMapList","metadata":{},"items":[]}`, want: ""},
		{body: `{"items":[]}`, want: ""},
		{body: `[]`, wantErr: true},
		{body: `{"metadata":`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := jsonContinue([]byte(tt.body))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("jsonContinue(%s) = %q, %v; want %q, error %v", tt.body, got, err, tt.want, tt.wantErr)
		}
	}
}
