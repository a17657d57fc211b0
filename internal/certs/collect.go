package certs

import (
	"crypto/x509"
	"fmt"
	"maps"
	"runtime"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// TypedResources are the resources a Collector prefers as typed lists
// (cluster.StreamOptions.Typed): Secrets, whose values then arrive as bytes
// instead of base64 text in maps that are mostly thrown away.
func TypedResources() []schema.GroupResource {
	return []schema.GroupResource{{Resource: "secrets"}}
}

// Collector builds an Inventory from the pages of a live cluster.Stream of
// Resources, judging nothing: each page is read (and each TLS Secret's
// tls.crt checked against its ca.crt) on every CPU as it arrives, while the
// stream goes on to fetch and decode the next pages, and only what was
// found is kept. Inventory gives the same result FromSnapshot gives for a
// snapshot of the same objects.
//
// Page is safe for concurrent use, as cluster.Stream requires. It returns
// once a page is handed over, not once it is read: at most pagesInFlight
// pages are read at once, and Page waits for a free slot beyond that, which
// bounds memory. Objects and Inventory wait for every page handed over.
type Collector struct {
	// reading counts the pages handed over and not yet read; slots bounds
	// them.
	reading sync.WaitGroup
	slots   chan struct{}

	mu sync.Mutex
	// pending holds the objects of resources not yet read completely.
	pending map[string][]piece
	// gen counts the Resets of each resource: a page read for an older
	// generation is void. last holds the generation in which a resource's
	// Last page was handed over.
	gen     map[string]int
	last    map[string]int
	done    []piece
	sigs    map[string]bool
	objects int
}

// pagesInFlight is how many pages a Collector reads at once: one page can
// be read while the one before it finishes, so that no CPU waits for the
// slowest object of a page.
const pagesInFlight = 2

// piece is what one object holds, with the key snapshots sort objects by.
type piece struct {
	group, kind, ns, name string
	inv                   *Inventory
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector {
	return &Collector{
		slots:   make(chan struct{}, pagesInFlight),
		pending: map[string][]piece{},
		gen:     map[string]int{},
		last:    map[string]int{},
		sigs:    map[string]bool{},
	}
}

// Page reads one page; pass it to cluster.Stream. A page of a typed list
// other than Secrets is an error, returned at once.
func (c *Collector) Page(p cluster.Page) error {
	key := p.Resource.Group + "/" + p.Resource.Version + "/" + p.Resource.Resource
	var read func() ([]piece, []map[string]bool)
	switch {
	case p.Reset:
		c.mu.Lock()
		c.gen[key]++
		delete(c.pending, key)
		c.mu.Unlock()
		return nil
	case p.Typed != nil:
		l, ok := p.Typed.(*corev1.SecretList)
		if !ok {
			return fmt.Errorf("certs: %s came as a typed %T, which is not read; list it unstructured", p.Resource.Resource, p.Typed)
		}
		read = func() ([]piece, []map[string]bool) {
			return readParallel(len(l.Items), func(inv *Inventory, i int) piece {
				s := &l.Items[i]
				typedSecret(inv, s)
				return piece{kind: "Secret", ns: s.Namespace, name: s.Name}
			})
		}
	default:
		read = func() ([]piece, []map[string]bool) {
			return readParallel(len(p.Objects), func(inv *Inventory, i int) piece {
				o := snapshot.Object{Unstructured: p.Objects[i]}
				fromObject(inv, o)
				gvk := o.GroupVersionKind()
				return piece{group: gvk.Group, kind: gvk.Kind, ns: o.GetNamespace(), name: o.GetName()}
			})
		}
	}
	c.mu.Lock()
	gen := c.gen[key]
	if p.Last {
		c.last[key] = gen
	}
	c.mu.Unlock()

	c.slots <- struct{}{}
	c.reading.Add(1)
	go func() {
		defer c.reading.Done()
		defer func() { <-c.slots }()
		pieces, sigs := read()
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range sigs {
			maps.Copy(c.sigs, m)
		}
		if c.gen[key] == gen {
			c.pending[key] = append(c.pending[key], pieces...)
		}
	}()
	return nil
}

// finish waits for the pages handed over and moves the resources whose
// Last page came (and was not reset since) to done. c.mu must not be held.
func (c *Collector) finish() {
	c.reading.Wait()
	c.mu.Lock()
	for key, gen := range c.last {
		if c.gen[key] != gen {
			continue
		}
		c.objects += len(c.pending[key])
		c.done = append(c.done, c.pending[key]...)
		delete(c.pending, key)
		delete(c.last, key)
	}
}

// Objects is the number of objects of completely read resources, what a
// snapshot of the same stream would hold (for a report's summary). It waits
// for the pages handed over.
func (c *Collector) Objects() int {
	c.finish()
	defer c.mu.Unlock()
	return c.objects
}

// Inventory merges what the completely read resources held, in the order
// of a sorted snapshot. Pages of resources that never completed (a gap in
// the stream's snapshot) are left out, as Snapshot leaves out their objects.
// It waits for the pages handed over.
func (c *Collector) Inventory() *Inventory {
	c.finish()
	defer c.mu.Unlock()
	sort.SliceStable(c.done, func(i, j int) bool {
		a, b := c.done[i], c.done[j]
		if a.group != b.group {
			return a.group < b.group
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.ns != b.ns {
			return a.ns < b.ns
		}
		return a.name < b.name
	})
	// Sized once: appending ten thousand small inventories one by one
	// would copy the slices over and over.
	var certs, keys, pairs, problems int
	for _, p := range c.done {
		if p.inv != nil {
			certs += len(p.inv.Certs)
			keys += len(p.inv.Keys)
			pairs += len(p.inv.Pairs)
			problems += len(p.inv.Problems)
		}
	}
	inv := &Inventory{
		Certs:    make([]Cert, 0, certs),
		Keys:     make([]Key, 0, keys),
		Pairs:    make([]Pair, 0, pairs),
		Problems: make([]Problem, 0, problems),
		sigs:     maps.Clone(c.sigs),
	}
	for _, p := range c.done {
		inv.Merge(p.inv)
	}
	return inv
}

// readParallel reads n objects on every CPU, each into its own inventory,
// returning them in order with the signature checks done on the way.
func readParallel(n int, read func(inv *Inventory, i int) piece) ([]piece, []map[string]bool) {
	out := make([]piece, n)
	workers := min(runtime.GOMAXPROCS(0), max(1, n/50))
	sigs := make([]map[string]bool, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Certificates repeat across objects (a CA in every ca.crt):
			// one parse cache and one signature cache per worker.
			parsed := map[string]*x509.Certificate{}
			sig := map[string]bool{}
			for i := w; i < n; i += workers {
				inv := &Inventory{parsed: parsed, sigs: sig}
				p := read(inv, i)
				inv.checkSecretChain()
				inv.parsed, inv.sigs = nil, nil
				if !inv.empty() {
					p.inv = inv
				}
				out[i] = p
			}
			sigs[w] = sig
		}()
	}
	wg.Wait()
	return out, sigs
}

// typedSecret reads a Secret decoded by client-go, as secret reads an
// unstructured one. Its values are read where they lie, not copied.
func typedSecret(inv *Inventory, s *corev1.Secret) {
	typ := string(s.Type)
	if skipSecret(typ) {
		return
	}
	values := s.Data
	if len(s.StringData) > 0 {
		values = make(map[string][]byte, len(s.Data)+len(s.StringData))
		maps.Copy(values, s.Data)
		for k, v := range s.StringData {
			values[k] = []byte(v)
		}
	}
	// One object for all the Secret's values: nothing changes it.
	obj := &finding.Object{APIVersion: "v1", Kind: "Secret", Namespace: s.Namespace, Name: s.Name}
	secretValues(inv, typ, values, func(field string) Source {
		return Source{Kind: KindObject, Object: obj, Field: field}
	})
}

// checkSecretChain does ahead of time, while the stream waits for the next
// page, the signature check the chain check makes for a TLS Secret's
// tls.crt against its ca.crt (see secretChains), leaving the answer in the
// signature cache that the chain check then reads.
func (inv *Inventory) checkSecretChain() {
	var leaf *Cert
	var roots []*Cert
	for i := range inv.Certs {
		c := &inv.Certs[i]
		if c.Source.Kind != KindObject || c.Source.Object == nil || c.Source.Object.Kind != "Secret" {
			continue
		}
		switch {
		case c.Source.Field == "tls.crt" && c.Source.Index == 0:
			leaf = c
		case c.Source.Field == "ca.crt":
			roots = append(roots, c)
		}
	}
	if leaf == nil {
		return
	}
	for _, r := range roots {
		if string(r.RawSubject) == string(leaf.RawIssuer) && inv.signedBy(leaf.Certificate, r.Certificate) {
			return
		}
	}
}

// empty reports whether inv holds nothing to merge.
func (inv *Inventory) empty() bool {
	return len(inv.Certs) == 0 && len(inv.Keys) == 0 && len(inv.Pairs) == 0 && len(inv.Kubeconfigs) == 0 &&
		len(inv.Problems) == 0 && inv.KubeadmConfig == nil && len(inv.Requested) == 0 && len(inv.APIServerNames) == 0
}
