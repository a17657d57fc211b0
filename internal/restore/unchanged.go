package restore

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/drift"
)

// trustLive lets applyOne decide "unchanged" from the live copy alone (see
// provablyUnchanged). Tests turn it off to measure the dry-run path.
var trustLive = true

// provablyUnchanged reports whether applying desired (already cleaned) as
// field manager shipshape would leave live's content as it is, judged
// without asking the server. It is conservative: false means "ask the
// server with a dry-run apply", never "changed".
//
// An apply changes nothing when
//   - every field desired sets is set in live to the same value (lists of
//     the same length, element by element), and
//   - every field shipshape's earlier applies own is still in desired: a
//     field shipshape owns and no longer sets would be removed.
func provablyUnchanged(desired, live *unstructured.Unstructured) bool {
	if !subset(desired.Object, drift.Clean(live).Object) {
		return false
	}
	for _, mf := range live.GetManagedFields() {
		if mf.Manager != cluster.FieldManager || mf.Operation != "Apply" || mf.Subresource != "" {
			continue
		}
		if mf.FieldsV1 == nil {
			return false
		}
		var owned map[string]any
		if err := json.Unmarshal(mf.FieldsV1.GetRawBytes(), &owned); err != nil {
			return false
		}
		if !covered(owned, desired.Object) {
			return false
		}
	}
	return true
}

// subset reports whether every field of d is in l with an equal value.
// Lists must have the same length; a null in d is never a subset (an apply
// of null removes a field).
func subset(d, l any) bool {
	switch dv := d.(type) {
	case map[string]any:
		lv, ok := l.(map[string]any)
		if !ok {
			return false
		}
		for k, x := range dv {
			y, ok := lv[k]
			if !ok || x == nil || !subset(x, y) {
				return false
			}
		}
		return true
	case []any:
		lv, ok := l.([]any)
		if !ok || len(lv) != len(dv) {
			return false
		}
		for i := range dv {
			if !subset(dv[i], lv[i]) {
				return false
			}
		}
		return true
	case nil:
		return false
	}
	return scalarEqual(d, l)
}

// scalarEqual compares two JSON scalars; numbers compare by value whatever
// their Go type.
func scalarEqual(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	switch av := a.(type) {
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	}
	return false
}

// number returns v as a float64 when v is a number that a float64 holds
// exactly.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		f := float64(n)
		return f, int64(f) == n && math.Abs(f) < 1<<53
	case int:
		return number(int64(n))
	case int32:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// covered reports whether every field of a managedFields FieldsV1 set is
// present in obj. Keys are "f:name" (a map field), "k:{...}" (the list
// element with these key fields), "v:..." (the list element with this
// value), "i:N" (the list element at index N) and "." (the field itself).
// Anything else is taken as not covered.
func covered(fields map[string]any, obj any) bool {
	for key, sub := range fields {
		if key == "." {
			continue
		}
		next, ok := member(key, obj)
		if !ok {
			return false
		}
		if m, _ := sub.(map[string]any); len(m) > 0 && !covered(m, next) {
			return false
		}
	}
	return true
}

// member finds the part of obj a FieldsV1 key names.
func member(key string, obj any) (any, bool) {
	switch {
	case strings.HasPrefix(key, "f:"):
		m, ok := obj.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok := m[key[2:]]
		return v, ok && v != nil
	case strings.HasPrefix(key, "k:"):
		l, ok := obj.([]any)
		if !ok {
			return nil, false
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(key[2:]), &want); err != nil || len(want) == 0 {
			return nil, false
		}
		for _, e := range l {
			em, ok := e.(map[string]any)
			if !ok {
				continue
			}
			match := true
			for k, v := range want {
				if !jsonEqual(v, em[k]) {
					match = false
					break
				}
			}
			if match {
				return e, true
			}
		}
		return nil, false
	case strings.HasPrefix(key, "v:"):
		l, ok := obj.([]any)
		if !ok {
			return nil, false
		}
		var want any
		if err := json.Unmarshal([]byte(key[2:]), &want); err != nil {
			return nil, false
		}
		for _, e := range l {
			if jsonEqual(want, e) {
				return e, true
			}
		}
		return nil, false
	case strings.HasPrefix(key, "i:"):
		l, ok := obj.([]any)
		i, err := strconv.Atoi(key[2:])
		if !ok || err != nil || i < 0 || i >= len(l) {
			return nil, false
		}
		return l[i], true
	}
	return nil, false
}

// jsonEqual compares two JSON values deeply, numbers by value.
func jsonEqual(a, b any) bool {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !jsonEqual(x, y) {
				return false
			}
		}
		return true
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !jsonEqual(av[i], bv[i]) {
				return false
			}
		}
		return true
	case nil:
		return b == nil
	}
	return scalarEqual(a, b)
}
