package backup

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/drift"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	Manifest *Manifest
	Objects  int
	Releases int
	// Encrypted counts encrypted files; Decrypted how many of them were opened.
	Encrypted, Decrypted int
	// Problems make the backup unfit to restore on its own; sorted.
	Problems []Problem
	// Notes are for the reader but not failures (no identity given, partial read).
	Notes []string
}

// OK reports whether the backup passed.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

var builtinGroups = map[string]bool{
	"": true, "apps": true, "batch": true, "autoscaling": true, "policy": true,
	"admissionregistration.k8s.io": true, "apiextensions.k8s.io": true, "apiregistration.k8s.io": true,
	"certificates.k8s.io": true, "coordination.k8s.io": true, "discovery.k8s.io": true, "events.k8s.io": true,
	"flowcontrol.apiserver.k8s.io": true, "networking.k8s.io": true, "node.k8s.io": true,
	"rbac.authorization.k8s.io": true, "resource.k8s.io": true, "scheduling.k8s.io": true,
	"storage.k8s.io": true, "storagemigration.k8s.io": true, "internal.apiserver.k8s.io": true,
}

// SealedSecretsKeyLabel marks the sealed-secrets controller's key Secrets.
const SealedSecretsKeyLabel = "sealedsecrets.bitnami.com/sealed-secrets-key"

// Verify checks that a backup is complete (every file present with its
// checksum), that every encrypted file decrypts with the identities (when
// given), and that it is restorable on its own: each custom resource has its
// CRD, each object a pod template needs is present, each Helm release
// decodes, and the sealed-secrets key is present when SealedSecrets are.
// An unusable backup (no manifest, corrupt archive, wrong identity) is an error.
func Verify(ctx context.Context, from string, opts Options) (*VerifyReport, error) {
	t, err := Load(ctx, from, opts)
	if err != nil {
		return nil, err
	}
	r := &VerifyReport{Manifest: t.Manifest, Objects: len(t.Items), Releases: len(t.Releases)}
	r.Problems = append(r.Problems, t.Problems...)
	for p := range t.Manifest.Files {
		if strings.HasSuffix(p, ".age") {
			r.Encrypted++
		}
	}
	r.Decrypted = r.Encrypted - len(t.Undecrypted)
	for _, p := range t.Problems {
		if strings.HasSuffix(p.Path, ".age") {
			r.Decrypted--
		}
	}
	if len(opts.Identities) == 0 && r.Encrypted > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d encrypted files not decrypted: give --identity to check them", r.Encrypted))
	}
	if t.Manifest.Partial {
		for _, g := range t.Manifest.Gaps {
			r.Notes = append(r.Notes, fmt.Sprintf("partial backup: %s was not read: %s", g.Source, g.Reason))
		}
	}
	r.Problems = append(r.Problems, selfContained(t.Items)...)
	ownerProblems, ownerNotes := recordedOwners(t.Items)
	r.Problems = append(r.Problems, ownerProblems...)
	r.Notes = append(r.Notes, ownerNotes...)
	sort.Slice(r.Problems, func(i, j int) bool { return r.Problems[i].String() < r.Problems[j].String() })
	return r, nil
}

// selfContained finds references a restore of the items alone would miss.
func selfContained(items []Item) []Problem {
	crds := map[string]bool{}
	present := map[string]bool{}
	sealed, key := []string{}, false
	for _, it := range items {
		o := it.Object
		g := o.GroupVersionKind().Group
		if g == "apiextensions.k8s.io" && o.GetKind() == "CustomResourceDefinition" {
			group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			crds[group+"/"+kind] = true
		}
		if g == "" || g == "scheduling.k8s.io" {
			present[ref{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}.key()] = true
		}
		if g == "" && o.GetKind() == "Secret" && o.GetLabels()[SealedSecretsKeyLabel] != "" {
			key = true
		}
		if g == "bitnami.com" && o.GetKind() == "SealedSecret" {
			sealed = append(sealed, it.Path)
		}
	}
	var out []Problem
	for _, it := range items {
		o := it.Object
		g := o.GroupVersionKind().Group
		if !builtinGroups[g] && !crds[g+"/"+o.GetKind()] {
			out = append(out, Problem{it.Path, fmt.Sprintf("custom resource %s.%s has no CustomResourceDefinition in the backup", o.GetKind(), g)})
		}
		for _, r := range podRefs(o) {
			if !present[r.key()] {
				where := r.Name
				if r.Namespace != "" {
					where = r.Namespace + "/" + r.Name
				}
				out = append(out, Problem{it.Path, fmt.Sprintf("pod template needs %s %s (%s), which is not in the backup", r.Kind, where, r.Where)})
			}
		}
	}
	if len(sealed) > 0 && !key {
		out = append(out, Problem{sealed[0], fmt.Sprintf("%d SealedSecrets but no sealed-secrets controller key (Secret labelled %s) in the backup: they cannot be unsealed after a restore", len(sealed), SealedSecretsKeyLabel)})
	}
	return out
}

// recordedOwners checks the owners each object records (drift.OwnersAnnotation):
// an annotation that does not decode is a problem; an owner that is not in
// the backup is a note, since restore then restores the object without that
// owner reference, and the garbage collector will not delete it with its
// owner. A namespaced owner is looked for in its dependent's namespace.
func recordedOwners(items []Item) (problems []Problem, notes []string) {
	type objKey struct {
		gk        schema.GroupKind
		namespace string
		name      string
	}
	present := make(map[objKey]bool, len(items))
	for _, it := range items {
		present[objKey{it.Object.GroupVersionKind().GroupKind(), it.Object.GetNamespace(), it.Object.GetName()}] = true
	}
	for _, it := range items {
		owners, err := drift.RecordedOwners(it.Object)
		if err != nil {
			problems = append(problems, Problem{it.Path, err.Error()})
			continue
		}
		for _, o := range owners {
			gk := schema.FromAPIVersionAndKind(o.APIVersion, o.Kind).GroupKind()
			if present[objKey{gk, it.Object.GetNamespace(), o.Name}] || present[objKey{gk, "", o.Name}] {
				continue
			}
			kind := gk.Kind
			if gk.Group != "" {
				kind += "." + gk.Group
			}
			notes = append(notes, fmt.Sprintf("%s: owner %s %s is not in the backup: unless the target has it, restore leaves the object without that owner reference", it.Path, kind, o.Name))
		}
	}
	return problems, notes
}
