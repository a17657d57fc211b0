package drift

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// OwnersAnnotation records an object's ownerReferences in a backup, by
// name: a UID names one incarnation of the owner, which a restored owner
// does not keep, so the references themselves are stripped and restore
// links the object again to the owners of those names.
const OwnersAnnotation = BackupAnnotationPrefix + "owners"

// Owner is one ownerReference without its UID.
type Owner struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	Controller         bool   `json:"controller,omitempty"`
	BlockOwnerDeletion bool   `json:"blockOwnerDeletion,omitempty"`
}

// String is Kind/name.
func (o Owner) String() string { return o.Kind + "/" + o.Name }

// OwnersOf returns obj's ownerReferences as Owners, in their order, and
// the annotation value that records them ("" when there are none).
func OwnersOf(obj *unstructured.Unstructured) ([]Owner, string) {
	refs := obj.GetOwnerReferences()
	if len(refs) == 0 {
		return nil, ""
	}
	out := make([]Owner, 0, len(refs))
	for _, r := range refs {
		o := Owner{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name}
		if r.Controller != nil {
			o.Controller = *r.Controller
		}
		if r.BlockOwnerDeletion != nil {
			o.BlockOwnerDeletion = *r.BlockOwnerDeletion
		}
		out = append(out, o)
	}
	b, _ := json.Marshal(out) // strings and booleans: cannot fail
	return out, string(b)
}

// RecordedOwners reads OwnersAnnotation from obj: nil when it is absent,
// an error naming the annotation when it does not decode or an entry lacks
// apiVersion, kind or name.
func RecordedOwners(obj *unstructured.Unstructured) ([]Owner, error) {
	v, ok := obj.GetAnnotations()[OwnersAnnotation]
	if !ok {
		return nil, nil
	}
	var out []Owner
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil, fmt.Errorf("annotation %s: %w", OwnersAnnotation, err)
	}
	for i, o := range out {
		if o.APIVersion == "" || o.Kind == "" || o.Name == "" {
			return nil, fmt.Errorf("annotation %s: entry %d lacks apiVersion, kind or name", OwnersAnnotation, i+1)
		}
	}
	return out, nil
}
