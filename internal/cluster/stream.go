package cluster

import (
	"context"
	"errors"
	"slices"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// StreamOptions tune Stream: what Snapshot reads, and which resources come
// as typed lists.
type StreamOptions struct {
	SnapshotOptions
	// Typed names resources whose pages are delivered as client-go's typed
	// list (Page.Typed, e.g. *corev1.SecretList), read as protobuf, instead
	// of unstructured objects. Resources whose types client-go does not
	// compile in are always delivered unstructured.
	Typed []schema.GroupResource
}

// Page is one page of one resource's LIST, as Stream delivers it.
type Page struct {
	Resource snapshot.Resource
	// Objects are the page's objects, unstructured, with apiVersion and
	// kind set; nil when the page is Typed.
	Objects []*unstructured.Unstructured
	// Typed is the page as client-go's typed list (for resources named in
	// StreamOptions.Typed); its items carry no apiVersion and kind.
	Typed runtime.Object
	// Reset says that the pages of Resource delivered so far are void: the
	// continue token expired and the resource is read again from the start.
	// A Reset page holds no objects.
	Reset bool
	// Last says that Resource was read completely: its pages since the last
	// Reset are all of its objects. A resource that fails part way gets no
	// Last page, and a gap in the returned snapshot instead.
	Last bool
}

// Stream reads the same objects as Snapshot, but hands each page to fn as
// soon as it is decoded instead of holding them all: the caller can judge
// page n while page n+1 is on the wire, and memory stays bounded by the
// pages in flight (at most three per resource listed at once).
//
// Pages of one resource arrive in order and one at a time; pages of
// different resources may arrive concurrently, so fn must be safe for
// concurrent use. The objects of a resource count only once its Last page
// arrived. An error from fn stops the stream and is returned.
//
// The returned snapshot is Snapshot's without Objects: server, discovered
// resources and gaps. Errors are Snapshot's.
func Stream(ctx context.Context, t *Target, opts StreamOptions, fn func(Page) error) (*snapshot.Snapshot, error) {
	return streamWith(ctx, t, opts, tuning{retry: defaultRetryPolicy()}, fn)
}

// errStopped marks an error that came from the caller's page function.
type errStopped struct{ err error }

func (e *errStopped) Error() string { return e.err.Error() }
func (e *errStopped) Unwrap() error { return e.err }

func streamWith(ctx context.Context, t *Target, opts StreamOptions, tn tuning, fn func(Page) error) (*snapshot.Snapshot, error) {
	if fn == nil {
		return nil, errors.New("stream cluster: no page function")
	}
	c, err := connect(ctx, t, opts.SnapshotOptions, tn)
	if err != nil {
		return nil, err
	}
	return c.each(ctx, opts.SnapshotOptions, func(ctx context.Context, _ int, r snapshot.Resource) error {
		typed := builtin(r) && slices.Contains(opts.Typed, schema.GroupResource{Group: r.Group, Resource: r.Resource})
		return c.lister.stream(ctx, r, c.ns, typed, fn)
	})
}

// stream is list with a page function in place of the result: one
// goroutine fetches pages, the other decodes each and hands it to fn, so
// that fn's work overlaps the next request. Errors from fn come back as
// *errStopped.
func (l *lister) stream(ctx context.Context, r snapshot.Resource, ns string, typed bool, fn func(Page) error) error {
	pages := make(chan fetched, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return l.fetchPages(gctx, r, ns, typed, pages) })
	g.Go(func() error {
		for f := range pages {
			p := Page{Resource: r, Reset: f.reset, Last: f.cont == "" && !f.reset}
			switch {
			case f.reset:
			case f.typed != nil && typed:
				p.Typed = f.typed
			default:
				items, err := f.decode(r)
				if err != nil {
					return &decodeError{err}
				}
				p.Objects = items
			}
			if err := fn(p); err != nil {
				return &errStopped{err}
			}
		}
		return nil
	})
	return g.Wait()
}
