package restore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/drift"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Target is what a restore needs from the API server; *cluster.Applier
// implements it.
type Target interface {
	Mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error)
	Get(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error)
	List(ctx context.Context, gvk schema.GroupVersionKind, namespace string) ([]*unstructured.Unstructured, error)
	Apply(ctx context.Context, obj *unstructured.Unstructured, o cluster.ApplyOptions) (*unstructured.Unstructured, error)
	WaitCRD(ctx context.Context, name string, interval time.Duration) error
	Refresh()
}

// Action is what happened, or with DryRun would happen, to one object.
type Action string

const (
	// Create: the object did not exist.
	Create Action = "create"
	// Update: the object existed and differed.
	Update Action = "update"
	// Unchanged: the object existed as desired; nothing was written.
	Unchanged Action = "unchanged"
	// Conflict: the object differs in fields another field manager owns;
	// nothing was written (see Options.ForceConflicts).
	Conflict Action = "conflict"
	// Unserved: the target does not serve the object's API, and no
	// CustomResourceDefinition in the restore defines it.
	Unserved Action = "unserved"
	// Failed: the server refused the object.
	Failed Action = "failed"
	// NotDone: the restore stopped (cancelled, or a CRD never became
	// ready) before the object was attempted.
	NotDone Action = "not done"
)

// Options tune Run.
type Options struct {
	// DryRun applies with dryRun=All: the server validates and defaults
	// every object and nothing is stored.
	DryRun bool
	// ForceConflicts takes over fields other field managers own.
	ForceConflicts bool
	// Namespaces, when set, restores only namespaced objects in these
	// namespaces and the Namespace objects themselves; other
	// cluster-scoped objects are left out.
	Namespaces []string
	// Kinds, when set, restores only objects of these kinds, named as
	// Kind or Kind.group (case-insensitive).
	Kinds []string
	// DefaultNamespace is given to namespaced objects that name none;
	// empty means "default".
	DefaultNamespace string
	// Concurrency bounds the objects applied at once within a phase; 0
	// means 16.
	Concurrency int
	// CRDTimeout bounds the wait for each CRD; 0 means one minute.
	CRDTimeout time.Duration
	// OnUnserved, when set, is called once before anything is applied with
	// the objects that cannot be restored because the target does not
	// serve their API (sorted by phase and key).
	OnUnserved func([]Item)
	// Progress, when set, is called after each object with the number
	// done, the total and the object. Calls are serialized.
	Progress func(done, total int, what string)
}

// Item is the outcome for one object.
type Item struct {
	Key    drift.Key
	Origin snapshot.Origin
	Phase  Phase
	Action Action
	// Changes are the fields an update changes (or would change).
	Changes []drift.Change
	// Detail explains a conflict, failure or note ("CRD not yet served:
	// not validated").
	Detail string
}

// Result is the outcome of a restore, Items sorted by phase and key.
type Result struct {
	DryRun bool
	Items  []Item
	// Duration is how long applying took (zero for unserved-only results).
	Duration time.Duration
}

// Count returns how many items had action a.
func (r *Result) Count(a Action) int {
	n := 0
	for _, it := range r.Items {
		if it.Action == a {
			n++
		}
	}
	return n
}

// Complete reports whether every object is now (or would be) as desired.
func (r *Result) Complete() bool {
	for _, it := range r.Items {
		switch it.Action {
		case Create, Update, Unchanged:
		default:
			return false
		}
	}
	return true
}

type planned struct {
	obj   *unstructured.Unstructured
	item  Item
	crd   bool // defined by a CRD in this restore, not yet served
	nsNew bool // its namespace is created by this restore (dry-run only matters)
	// known is set when live was read by a LIST ahead of the phase; live
	// is then the object, or nil when it does not exist.
	known bool
	live  *unstructured.Unstructured
	// owners are the owners the backup recorded by name, linked again
	// once every phase is applied.
	owners []drift.Owner
	// stored is the object as the server held it once applyOne was done
	// (nil in a dry run, or when it failed).
	stored *unstructured.Unstructured
}

// Run restores objects into t. Objects are cleaned of server-set fields
// (drift.Clean) and of shipshape's backup annotations before they are
// applied. Objects whose API t does not serve, and that no CRD in objects
// defines, are found before anything is applied, reported as Unserved and
// skipped. An existing object whose live copy (from a LIST or GET) already
// holds every field the tree sets, and every field shipshape applied
// before, is reported Unchanged without a dry-run apply; any other existing
// object is compared with a dry-run apply first. Every other object is
// attempted even when some fail; Run returns an error only when it could
// not go on at all (the context ended, a CRD never became ready), together
// with the partial result.
func Run(ctx context.Context, t Target, objects []snapshot.Object, o Options) (*Result, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.CRDTimeout <= 0 {
		o.CRDTimeout = time.Minute
	}
	plan, err := makePlan(t, objects, o)
	if err != nil {
		return nil, err
	}
	if o.OnUnserved != nil {
		var un []Item
		for _, p := range plan {
			if p.item.Action == Unserved {
				un = append(un, p.item)
			}
		}
		sortItems(un)
		o.OnUnserved(un)
	}
	res := &Result{DryRun: o.DryRun}
	start := time.Now()
	defer func() {
		res.Duration = time.Since(start)
		markNotDone(plan)
		for _, p := range plan {
			res.Items = append(res.Items, p.item)
		}
		sortItems(res.Items)
	}()

	var phases [numPhases][]*planned
	total := 0
	for _, p := range plan {
		if p.item.Action != "" {
			continue // unserved, duplicate or unusable: decided already
		}
		phases[p.item.Phase] = append(phases[p.item.Phase], p)
		total++
	}
	var mu sync.Mutex
	done := 0
	report := func(p *planned) {
		if o.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		o.Progress(done, total, p.item.Key.String())
	}
	newNamespaces := map[string]bool{}
	for ph := Phase(0); ph < numPhases; ph++ {
		items := phases[ph]
		if len(items) == 0 {
			continue
		}
		if o.DryRun {
			for _, p := range items {
				if p.item.Key.Namespace != "" && newNamespaces[p.item.Key.Namespace] {
					p.nsNew = true
				}
			}
		}
		if err := prefetch(ctx, t, items, o.Concurrency); err != nil {
			return res, err
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(o.Concurrency)
		for _, p := range items {
			if gctx.Err() != nil {
				break
			}
			g.Go(func() error {
				err := applyOne(gctx, t, p, o)
				report(p)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return res, err
		}
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("restore stopped in phase %s: %w", ph, err)
		}
		if ph == PhaseNamespaces {
			for _, p := range items {
				if p.item.Action == Create {
					newNamespaces[p.item.Key.Name] = true
				}
			}
		}
		if ph == PhaseCRDs && !o.DryRun {
			if err := waitCRDs(ctx, t, items, o.CRDTimeout); err != nil {
				return res, err
			}
			if err := waitServed(ctx, t, items, plan, o.CRDTimeout); err != nil {
				return res, err
			}
		}
	}
	if !o.DryRun {
		if err := linkOwners(ctx, t, plan, o); err != nil {
			return res, err
		}
	}
	return res, nil
}

// markNotDone gives every object not yet attempted the action NotDone.
func markNotDone(plan []*planned) {
	for _, p := range plan {
		if p.item.Action == "" {
			p.item.Action = NotDone
		}
	}
}

// listThreshold is the number of objects of one kind in one namespace from
// which one LIST is cheaper than a GET per object.
const listThreshold = 3

// prefetch reads, with one LIST per kind and namespace, the live copies of
// the items that share a kind and namespace with enough others. A LIST that
// fails leaves its items to be read one by one; only a context error is
// returned.
func prefetch(ctx context.Context, t Target, items []*planned, concurrency int) error {
	type group struct {
		gvk schema.GroupVersionKind
		ns  string
	}
	groups := map[group][]*planned{}
	var order []group
	for _, p := range items {
		if p.crd || p.nsNew {
			continue
		}
		k := group{p.obj.GroupVersionKind(), p.obj.GetNamespace()}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for _, k := range order {
		ps := groups[k]
		if len(ps) < listThreshold {
			continue
		}
		g.Go(func() error {
			live, err := t.List(gctx, k.gvk, k.ns)
			if err != nil {
				return gctx.Err()
			}
			byName := make(map[string]*unstructured.Unstructured, len(live))
			for _, l := range live {
				byName[l.GetName()] = l
			}
			for _, p := range ps {
				p.known, p.live = true, byName[p.obj.GetName()]
			}
			return nil
		})
	}
	return g.Wait()
}

// applyOne decides and applies one object. It returns an error only when
// the context ended; everything else is recorded in p.item.
func applyOne(ctx context.Context, t Target, p *planned, o Options) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if o.DryRun && (p.crd || p.nsNew) {
		p.item.Action = Create
		if p.crd {
			p.item.Detail = "its CRD is created by this restore: not validated by the server"
		} else {
			p.item.Detail = "its namespace is created by this restore: not validated by the server"
		}
		return nil
	}
	live := p.live
	if !p.known {
		var err error
		if live, err = t.Get(ctx, p.obj); err != nil {
			return p.fail(ctx, err)
		}
	}
	if live == nil {
		out, err := t.Apply(ctx, p.obj, cluster.ApplyOptions{DryRun: o.DryRun, Force: o.ForceConflicts})
		if err != nil {
			return p.fail(ctx, err)
		}
		p.item.Action = Create
		if !o.DryRun {
			p.stored = out
		}
		return nil
	}
	// Most objects of a rerun or a restore into a cluster that has them are
	// as desired: then the live copy shows it and no dry run is needed.
	if trustLive && provablyUnchanged(p.obj, live) {
		p.item.Action = Unchanged
		p.stored = live
		return nil
	}
	dry, err := t.Apply(ctx, p.obj, cluster.ApplyOptions{DryRun: true, Force: o.ForceConflicts})
	if err != nil {
		return p.fail(ctx, err)
	}
	changes := drift.Compare(live, dry, drift.Exact)
	if len(changes) == 0 {
		p.item.Action = Unchanged
		p.stored = live
		return nil
	}
	p.item.Changes = changes
	if !o.DryRun {
		out, err := t.Apply(ctx, p.obj, cluster.ApplyOptions{Force: o.ForceConflicts})
		if err != nil {
			return p.fail(ctx, err)
		}
		p.stored = out
	}
	p.item.Action = Update
	return nil
}

// fail records err on p; a context error is returned to stop the phase.
func (p *planned) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch {
	case cluster.IsConflict(err):
		p.item.Action = Conflict
		p.item.Detail = "differs in fields owned by " + strings.Join(quoteAll(cluster.ConflictManagers(err)), ", ") + "; not overwritten (use --force-conflicts)"
	case errors.Is(err, cluster.ErrNotServed):
		p.item.Action = Unserved
		p.item.Detail = err.Error()
	default:
		p.item.Action = Failed
		p.item.Detail = err.Error()
	}
	return nil
}

func quoteAll(s []string) []string {
	if len(s) == 0 {
		return []string{"another field manager"}
	}
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func waitCRDs(ctx context.Context, t Target, items []*planned, timeout time.Duration) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, p := range items {
		if p.item.Action != Create && p.item.Action != Update && p.item.Action != Unchanged {
			continue
		}
		g.Go(func() error {
			wctx, cancel := context.WithTimeout(gctx, timeout)
			defer cancel()
			return t.WaitCRD(wctx, p.item.Key.Name, 0)
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("restore stopped after the CRD phase: %w", err)
	}
	return nil
}

// servedPoll is how often waitServed asks discovery again.
const servedPoll = 100 * time.Millisecond

// waitServed waits until discovery lists every kind that the CRDs applied
// in crds define and that objects of the plan need. A CRD is Established
// before the API server's discovery document shows its group, so the first
// objects of a new kind could otherwise be reported unserved. Kinds still
// missing at the timeout are left to be reported as unserved, one by one,
// by the apply that follows.
func waitServed(ctx context.Context, t Target, crds, plan []*planned, timeout time.Duration) error {
	ready := map[schema.GroupKind]bool{}
	for _, p := range crds {
		switch p.item.Action {
		case Create, Update, Unchanged:
			ready[crdGroupKind(p.obj)] = true
		}
	}
	want := map[schema.GroupVersionKind]bool{}
	for _, p := range plan {
		if gvk := p.obj.GroupVersionKind(); p.crd && p.item.Action == "" && ready[gvk.GroupKind()] {
			want[gvk] = true
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		t.Refresh()
		for gvk := range want {
			if _, err := t.Mapping(gvk); err == nil {
				delete(want, gvk)
			}
		}
		if len(want) == 0 || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restore stopped waiting for new kinds to be served: %w", ctx.Err())
		case <-time.After(servedPoll):
		}
	}
}

func sortItems(items []Item) {
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].Phase != items[j].Phase {
			return items[i].Phase < items[j].Phase
		}
		return items[i].Key.Less(items[j].Key)
	})
}
