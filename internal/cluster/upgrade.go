package cluster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/client-go/kubernetes"
)

// DeprecatedAPIRequest is one series of the API server's
// apiserver_requested_deprecated_apis gauge: a deprecated API that clients
// requested since the server started.
type DeprecatedAPIRequest struct {
	Group, Version, Resource, Subresource string
	// RemovedRelease is the release that removes the API, e.g. "1.40", or "".
	RemovedRelease string
}

// DeprecatedAPIRequests reads the apiserver_requested_deprecated_apis metric
// from the API server's /metrics endpoint. It needs get on the /metrics
// non-resource URL; callers treat an error as "not readable", not as fatal.
func DeprecatedAPIRequests(ctx context.Context, t *Target) ([]DeprecatedAPIRequest, error) {
	cs, err := kubernetes.NewForConfig(t.Config)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", t.Host, err)
	}
	body, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("get /metrics from %s: %w", t.Host, err)
	}
	return parseDeprecatedAPIRequests(body), nil
}

// parseDeprecatedAPIRequests reads the gauge's series from Prometheus text
// exposition format, sorted. Only series with value 1 count.
func parseDeprecatedAPIRequests(body []byte) []DeprecatedAPIRequest {
	const name = "apiserver_requested_deprecated_apis{"
	var out []DeprecatedAPIRequest
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "}")
		if !ok || strings.TrimSpace(value) != "1" {
			continue
		}
		l := parseLabels(labels)
		out = append(out, DeprecatedAPIRequest{Group: l["group"], Version: l["version"], Resource: l["resource"],
			Subresource: l["subresource"], RemovedRelease: l["removed_release"]})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Group+"/"+a.Version+"/"+a.Resource+"/"+a.Subresource < b.Group+"/"+b.Version+"/"+b.Resource+"/"+b.Subresource
	})
	return out
}

// parseLabels reads `a="x",b="y"` (label values as the API server writes
// them: no escaped quotes in group, version or resource names).
func parseLabels(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		k, rest, ok := strings.Cut(s, `="`)
		if !ok {
			break
		}
		v, rest, ok := strings.Cut(rest, `"`)
		if !ok {
			break
		}
		out[strings.TrimSpace(k)] = v
		s = strings.TrimPrefix(strings.TrimSpace(rest), ",")
	}
	return out
}
