package cluster

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDeprecatedAPIRequests(t *testing.T) {
	body := []byte(`# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested, broken out by API group, version, resource, subresource, and removed_release.
# TYPE apiserver_requested_deprecated_apis gauge
apiserver_requested_deprecated_apis{group="storage.k8s.io",removed_release="1.37",resource="volumeattributesclasses",subresource="",version="v1beta1"} 1
apiserver_requested_deprecated_apis{group="resource.k8s.io",removed_release="1.39",resource="deviceclasses",subresource="",version="v1beta2"} 1
apiserver_requested_deprecated_apis{group="example.com",removed_release="",resource="widgets",subresource="status",version="v1alpha1"} 0
apiserver_request_total{code="200",verb="GET"} 12
`)
	got := parseDeprecatedAPIRequests(body)
	want := []DeprecatedAPIRequest{
		{Group: "resource.k8s.io", Version: "v1beta2", Resource: "deviceclasses", RemovedRelease: "1.39"},
		{Group: "storage.k8s.io", Version: "v1beta1", Resource: "volumeattributesclasses", RemovedRelease: "1.37"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parse (-want +got):\n%s", diff)
	}
	if got := parseDeprecatedAPIRequests([]byte("garbage{\n")); len(got) != 0 {
		t.Errorf("garbage parsed as %v", got)
	}
}
