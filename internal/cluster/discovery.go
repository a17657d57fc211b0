package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// discover asks the server for every served API: built-in groups, CRDs and
// aggregated APIs. With aggregated discovery (the default since 1.30) this is
// two requests; older servers are asked group by group by client-go.
//
// A group version that could not be discovered, typically an APIService
// whose backend is down (reported as stale by aggregated discovery), becomes a
// gap; the rest of the API is still returned. Only a failure to discover
// anything at all is an error.
func discover(ctx context.Context, dc discovery.DiscoveryInterfaceWithContext) ([]snapshot.Resource, []snapshot.Gap, error) {
	groups, lists, err := discovery.ServerGroupsAndResourcesWithContext(ctx, dc)
	failed, partial := discovery.GroupDiscoveryFailedErrorGroups(err)
	if err != nil && !partial {
		return nil, nil, err
	}
	return preferredResources(groups, lists), discoveryGaps(failed), nil
}

// discoveryGaps turns failed group versions into gaps named "group/version".
func discoveryGaps(failed map[schema.GroupVersion]error) []snapshot.Gap {
	gaps := make([]snapshot.Gap, 0, len(failed))
	for gv, err := range failed {
		gaps = append(gaps, snapshot.Gap{
			Source: gv.String(),
			Reason: "discovery failed: " + discoveryReason(err),
		})
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i].Source < gaps[j].Source })
	return gaps
}

// discoveryReason phrases err for a gap. client-go's stale-group error only
// repeats the group version, which the gap's Source already names, so it is
// replaced by what it means.
func discoveryReason(err error) string {
	if errors.As(err, new(discovery.StaleGroupVersionError)) {
		return "marked stale by the API server: the APIService's backend is unavailable"
	}
	return err.Error()
}

// preferredResources picks, for every group and resource, the version the
// server prefers: the group's preferred version when it serves the resource,
// else the first version (in the server's priority order) that does.
// Subresources are dropped, and so are resources that cannot be listed.
//
// Resources served by two groups, such as core/v1 events and
// events.k8s.io/v1 events, are distinct GroupResources and both kept.
func preferredResources(groups []*metav1.APIGroup, lists []*metav1.APIResourceList) []snapshot.Resource {
	byGV := make(map[schema.GroupVersion]*metav1.APIResourceList, len(lists))
	for _, l := range lists {
		if l == nil {
			continue
		}
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		byGV[gv] = l
	}

	var out []snapshot.Resource
	for _, g := range groups {
		if g == nil {
			continue
		}
		// Versions in the server's priority order, preferred first.
		versions := make([]string, 0, len(g.Versions))
		if g.PreferredVersion.Version != "" {
			versions = append(versions, g.PreferredVersion.Version)
		}
		for _, v := range g.Versions {
			if v.Version != g.PreferredVersion.Version {
				versions = append(versions, v.Version)
			}
		}
		seen := map[string]bool{}
		for _, v := range versions {
			l := byGV[schema.GroupVersion{Group: g.Name, Version: v}]
			if l == nil {
				continue
			}
			for _, r := range l.APIResources {
				if strings.Contains(r.Name, "/") || seen[r.Name] || !slices.Contains(r.Verbs, "list") {
					continue
				}
				seen[r.Name] = true
				out = append(out, snapshot.Resource{
					Group:      g.Name,
					Version:    v,
					Resource:   r.Name,
					Kind:       r.Kind,
					Namespaced: r.Namespaced,
					Verbs:      slices.Clone(r.Verbs),
				})
			}
		}
	}
	return out
}

// gapSource names a resource in a gap: "secrets" for the core group,
// "group/resource" otherwise.
func gapSource(r snapshot.Resource) string {
	if r.Group == "" {
		return r.Resource
	}
	return fmt.Sprintf("%s/%s", r.Group, r.Resource)
}
