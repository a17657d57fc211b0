package restore

import (
	"context"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/drift"
)

// OwnersFieldManager is the field manager of the owner references a
// restore sets. It is not the main apply's: an apply of only the owner
// references by that manager would remove every other field it set.
const OwnersFieldManager = cluster.FieldManager + "-owners"

// linkOwners sets, once every phase is applied, the owner references the
// backup recorded by name (drift.OwnersAnnotation) on the objects that
// carry them, with the UIDs the owners have in the target now. An object
// that already has them is left alone, so a rerun writes nothing. An owner
// that does not exist is noted on the item and its link left out: a
// reference to a UID that does not exist would let the garbage collector
// delete the object. Only a context error is returned.
func linkOwners(ctx context.Context, t Target, plan []*planned, o Options) error {
	var todo []*planned
	for _, p := range plan {
		if len(p.owners) > 0 && (p.item.Action == Create || p.item.Action == Update || p.item.Action == Unchanged) {
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	var mu sync.Mutex
	uids := map[drift.Key]types.UID{} // owners found; "" for owners that do not exist
	uidOf := func(ctx context.Context, ref *unstructured.Unstructured) (types.UID, error) {
		k := drift.KeyOf(ref)
		mu.Lock()
		uid, ok := uids[k]
		mu.Unlock()
		if ok {
			return uid, nil
		}
		live, err := t.Get(ctx, ref)
		if err != nil {
			return "", err
		}
		if live != nil {
			uid = live.GetUID()
		}
		mu.Lock()
		uids[k] = uid
		mu.Unlock()
		return uid, nil
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	for _, p := range todo {
		g.Go(func() error {
			linkOne(gctx, t, p, o, uidOf)
			return gctx.Err()
		})
	}
	return g.Wait()
}

func linkOne(ctx context.Context, t Target, p *planned, o Options, uidOf func(context.Context, *unstructured.Unstructured) (types.UID, error)) {
	var refs []metav1.OwnerReference
	var missing []string
	for _, ow := range p.owners {
		ref := &unstructured.Unstructured{}
		ref.SetAPIVersion(ow.APIVersion)
		ref.SetKind(ow.Kind)
		ref.SetName(ow.Name)
		ref.SetNamespace(p.obj.GetNamespace()) // ignored for a cluster-scoped owner
		uid, err := uidOf(ctx, ref)
		if err != nil {
			p.note("owner " + ow.String() + " could not be read (" + err.Error() + "): restored without that link")
			continue
		}
		if uid == "" {
			missing = append(missing, ow.String())
			continue
		}
		r := metav1.OwnerReference{APIVersion: ow.APIVersion, Kind: ow.Kind, Name: ow.Name, UID: uid}
		if ow.Controller {
			r.Controller = &ow.Controller
		}
		if ow.BlockOwnerDeletion {
			r.BlockOwnerDeletion = &ow.BlockOwnerDeletion
		}
		refs = append(refs, r)
	}
	if len(missing) > 0 {
		p.note("owner " + strings.Join(missing, ", ") + " not found: restored without that link")
	}
	if len(refs) == 0 {
		return
	}
	live := p.stored // what the apply stored, or the live copy it compared with
	if live == nil {
		var err error
		if live, err = t.Get(ctx, p.obj); err != nil || live == nil {
			p.note("owner references not set: the object could not be read back")
			return
		}
	}
	if hasRefs(live.GetOwnerReferences(), refs) {
		return
	}
	patch := &unstructured.Unstructured{}
	patch.SetAPIVersion(p.obj.GetAPIVersion())
	patch.SetKind(p.obj.GetKind())
	patch.SetName(p.obj.GetName())
	patch.SetNamespace(p.obj.GetNamespace())
	patch.SetOwnerReferences(refs)
	if _, err := t.Apply(ctx, patch, cluster.ApplyOptions{FieldManager: OwnersFieldManager, Force: o.ForceConflicts}); err != nil {
		p.note("owner references not set: " + err.Error())
		return
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Kind + "/" + r.Name
	}
	p.note("owner references set: " + strings.Join(names, ", "))
}

// hasRefs reports whether have holds every reference in want, with the
// same UID and flags.
func hasRefs(have, want []metav1.OwnerReference) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h.UID == w.UID && h.APIVersion == w.APIVersion && h.Kind == w.Kind && h.Name == w.Name &&
				isTrue(h.Controller) == isTrue(w.Controller) && isTrue(h.BlockOwnerDeletion) == isTrue(w.BlockOwnerDeletion) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func isTrue(b *bool) bool { return b != nil && *b }

// note adds a remark to the item's detail.
func (p *planned) note(s string) {
	if p.item.Detail != "" {
		p.item.Detail += "; "
	}
	p.item.Detail += s
}
