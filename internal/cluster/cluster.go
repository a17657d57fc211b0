// Package cluster reads a live Kubernetes cluster into a snapshot: it
// resolves kubeconfig flags, discovers every served API (built-in, CRDs and
// aggregated APIs) and lists the objects of each resource.
//
// It is the only package in shipshape that talks to an API server. Reading
// is discovery and paginated LIST, whole (Snapshot) or page by page
// (Stream); writing is server-side apply for restore and the few calls the
// admission guard makes. It never prints and never judges: what could not be
// read becomes a snapshot.Gap for checks and renderers to report, and only a
// cluster that cannot be reached at all is an error.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

const (
	defaultPageSize    = 500
	defaultConcurrency = 8
)

// SnapshotOptions tune what Snapshot reads and how.
type SnapshotOptions struct {
	// Resources and Kinds restrict the listed resources to those named here
	// (either list may match); when both are empty every listable resource
	// is read. Names that the server does not serve select nothing, since
	// an absent CRD simply has no objects. Discovery still reports every
	// served resource in Snapshot.Resources.
	Resources []schema.GroupResource
	Kinds     []schema.GroupKind
	// Exclude leaves these resources unlisted (a backup skips Events and
	// Leases, often the largest resources of a cluster, without reading them).
	Exclude []schema.GroupResource
	// PageSize is the LIST limit per request; 0 means 500.
	PageSize int64
	// Concurrency bounds the resources listed at once; 0 means 8.
	Concurrency int
	// Progress, when set, is called after each resource is read or given
	// up on, with the number done so far, the number selected and the
	// resource's name ("configmaps", "apps/deployments"). Calls are
	// serialized.
	Progress func(done, total int, resource string)
}

// tuning is what tests and benchmarks may change beyond SnapshotOptions.
type tuning struct {
	protobuf bool
	retry    retryPolicy
}

// Snapshot reads the cluster t points at: the server version, every served
// API, and the objects of every selected listable resource, namespaced ones
// in t's namespace (or all namespaces) and cluster-scoped ones always.
// Snapshot.Resources holds every resource discovery found that can be
// listed, at the version the server prefers; subresources are left out.
//
// It returns an error only when the server cannot be used at all:
// unreachable, TLS failure, rejected credentials, discovery impossible.
// Everything that fails for one resource or API group (forbidden, an
// aggregated API whose backend is down, a server error that outlasted the
// retries) is recorded as a snapshot.Gap and the rest is still read. A
// resource is read completely or not at all: one that fails part way adds
// a gap and no objects.
//
// Throttling (429) and server errors are retried: client-go waits out a
// Retry-After up to 10 times, and failures without one are retried a few
// times with backoff (see retry.go).
//
// Resources served by two groups, such as core/v1 events and
// events.k8s.io/v1 events, are listed in both; the same object then appears
// once per group, each with its own apiVersion. Deduplicating is left to the
// checks that care.
func Snapshot(ctx context.Context, t *Target, opts SnapshotOptions) (*snapshot.Snapshot, error) {
	return snapshotWith(ctx, t, opts, tuning{retry: defaultRetryPolicy()})
}

func snapshotWith(ctx context.Context, t *Target, opts SnapshotOptions, tn tuning) (*snapshot.Snapshot, error) {
	c, err := connect(ctx, t, opts, tn)
	if err != nil {
		return nil, err
	}
	results := make([][]*unstructured.Unstructured, len(c.selected))
	s, err := c.each(ctx, opts, func(ctx context.Context, i int, r snapshot.Resource) error {
		objs, err := c.lister.list(ctx, r, c.ns)
		results[i] = objs
		return err
	})
	if err != nil {
		return nil, err
	}
	n := 0
	for _, objs := range results {
		n += len(objs)
	}
	s.Objects = make([]snapshot.Object, 0, n)
	for _, objs := range results {
		for _, u := range objs {
			s.Objects = append(s.Objects, snapshot.Object{Unstructured: u})
		}
	}
	s.Sort()
	return s, nil
}

// conn is what Snapshot and Stream share once connected: the server,
// what discovery found, and the resources selected for listing.
type conn struct {
	t        *Target
	host     string
	info     *version.Info
	ns       string
	lister   *lister
	discover []snapshot.Resource
	gaps     []snapshot.Gap
	selected []snapshot.Resource
}

// connect checks the credentials, discovers the served APIs and selects
// the resources opts asks for.
func connect(ctx context.Context, t *Target, opts SnapshotOptions, tn tuning) (*conn, error) {
	if t == nil || t.Config == nil {
		return nil, errors.New("read cluster: no target config")
	}
	if opts.PageSize <= 0 {
		opts.PageSize = defaultPageSize
	}
	host := t.Host
	if host == "" {
		host = t.Config.Host
	}

	cfg := configure(t.Config)
	// One token bucket for discovery and listing together.
	if cfg.RateLimiter == nil {
		cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(cfg.QPS, cfg.Burst)
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", host, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", host, err)
	}
	info, err := dc.ServerVersionWithContext(ctx)
	if apierrors.IsUnauthorized(err) {
		return nil, fmt.Errorf("connect to %s: credentials rejected: %w", host, err)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", host, err)
	}
	resources, gaps, err := discover(ctx, dc)
	if err != nil {
		return nil, fmt.Errorf("discover APIs on %s: %w", host, err)
	}
	rc, err := listClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", host, err)
	}

	ns := t.Namespace
	if t.AllNamespaces {
		ns = ""
	} else if ns == "" {
		ns = "default"
	}
	selected := selectResources(resources, opts.Resources, opts.Kinds)
	if len(opts.Exclude) > 0 {
		selected = slices.DeleteFunc(slices.Clone(selected), func(r snapshot.Resource) bool {
			return slices.Contains(opts.Exclude, schema.GroupResource{Group: r.Group, Resource: r.Resource})
		})
	}
	return &conn{
		t: t, host: host, info: info, ns: ns,
		lister:   &lister{rc: rc, pageSize: opts.PageSize, protobuf: tn.protobuf, retry: tn.retry},
		discover: resources, gaps: gaps, selected: selected,
	}, nil
}

// each runs read for every selected resource, opts.Concurrency at a time,
// turns a resource that cannot be read into a gap (or a fatal error, as
// classify decides), reports progress, and returns the snapshot without
// objects. An error that read marks with errStopped stops everything.
func (c *conn) each(ctx context.Context, opts SnapshotOptions, read func(ctx context.Context, i int, r snapshot.Resource) error) (*snapshot.Snapshot, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = defaultConcurrency
	}
	gaps := make([]*snapshot.Gap, len(c.selected))
	var progressMu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for i, r := range c.selected {
		g.Go(func() error {
			err := read(gctx, i, r)
			var stopped *errStopped
			if errors.As(err, &stopped) {
				return stopped.err
			}
			if err != nil {
				gap, fatal := classify(r, c.host, err)
				if fatal != nil {
					return fatal
				}
				gaps[i] = &gap
			}
			if opts.Progress != nil {
				progressMu.Lock()
				done++
				opts.Progress(done, len(c.selected), gapSource(r))
				progressMu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	s := &snapshot.Snapshot{
		Source: snapshot.SourceCluster,
		Server: &snapshot.Server{
			Host:       c.host,
			Context:    c.t.Context,
			Namespace:  c.ns,
			GitVersion: c.info.GitVersion,
			Platform:   c.info.Platform,
		},
		Resources: c.discover,
		Gaps:      c.gaps,
	}
	for _, gap := range gaps {
		if gap != nil {
			s.Gaps = append(s.Gaps, *gap)
		}
	}
	s.Sort()
	return s, nil
}

// listClient is a REST client for absolute LIST paths. Its serializer
// decodes error bodies in either wire format; list bodies are decoded by
// the lister itself.
func listClient(cfg *rest.Config, httpClient *http.Client) (*rest.RESTClient, error) {
	c := rest.CopyConfig(cfg)
	c.APIPath = "/"
	c.GroupVersion = &schema.GroupVersion{}
	c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	return rest.RESTClientForConfigAndClient(c, httpClient)
}

// selectResources keeps the resources named by grs or gks, or all when both
// are empty.
func selectResources(all []snapshot.Resource, grs []schema.GroupResource, gks []schema.GroupKind) []snapshot.Resource {
	if len(grs) == 0 && len(gks) == 0 {
		return all
	}
	var out []snapshot.Resource
	for _, r := range all {
		if slices.Contains(grs, schema.GroupResource{Group: r.Group, Resource: r.Resource}) ||
			slices.Contains(gks, schema.GroupKind{Group: r.Group, Kind: r.Kind}) {
			out = append(out, r)
		}
	}
	return out
}

// classify turns a failed LIST into a gap, or into an error when the
// failure is not the resource's but the connection's: the server became
// unreachable, the credentials were rejected, or ctx ended.
func classify(r snapshot.Resource, host string, err error) (snapshot.Gap, error) {
	src := gapSource(r)
	var status apierrors.APIStatus
	var decode *decodeError
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return snapshot.Gap{}, fmt.Errorf("list %s: %w", src, err)
	case apierrors.IsUnauthorized(err):
		return snapshot.Gap{}, fmt.Errorf("list %s on %s: credentials rejected: %w", src, host, err)
	case apierrors.IsForbidden(err):
		return snapshot.Gap{Source: src, Reason: "forbidden: " + forbiddenReason(err)}, nil
	case errors.As(err, &decode):
		return snapshot.Gap{Source: src, Reason: err.Error()}, nil
	case errors.As(err, &status):
		return snapshot.Gap{Source: src, Reason: "list failed: " + err.Error()}, nil
	default:
		return snapshot.Gap{}, fmt.Errorf("connect to %s: list %s: %w", host, src, err)
	}
}

// forbiddenReason drops the `secrets is forbidden: ` prefix of the server's
// message, which repeats the gap's Source.
func forbiddenReason(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, " is forbidden: "); ok {
		return after
	}
	return msg
}
