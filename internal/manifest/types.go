package manifest

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
)

// valueKind is what JSON value a Go type accepts when the API server decodes it.
type valueKind uint8

const (
	kindAny         valueKind = iota // interface{}, RawExtension and other custom decoders
	kindString                       // string
	kindInt                          // signed integer of bits width
	kindUint                         // unsigned integer of bits width
	kindFloat                        // float32 or float64
	kindBool                         // bool
	kindBytes                        // []byte: a base64 string
	kindStruct                       // struct with fields
	kindSlice                        // slice or array of elem
	kindMap                          // map with string keys and elem values
	kindQuantity                     // resource.Quantity: string or number
	kindIntOrString                  // intstr.IntOrString
	kindTime                         // metav1.Time: RFC 3339 string
	kindMicroTime                    // metav1.MicroTime: RFC 3339 string with microseconds
	kindDuration                     // metav1.Duration: Go duration string
)

// typeInfo describes what a Go API type accepts, as far as the walker needs to
// know. Once built it is never modified, so it may be read without locking.
// A nil *typeInfo accepts anything.
type typeInfo struct {
	kind   valueKind
	bits   int
	elem   *typeInfo
	fields map[string]*typeInfo
	// objectMeta marks metav1.ObjectMeta, whose name and labels are checked
	// for template placeholders.
	objectMeta bool
}

var (
	quantityType    = reflect.TypeFor[resource.Quantity]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
	timeType        = reflect.TypeFor[metav1.Time]()
	microTimeType   = reflect.TypeFor[metav1.MicroTime]()
	durationType    = reflect.TypeFor[metav1.Duration]()
	rawType         = reflect.TypeFor[runtime.RawExtension]()
	objectMetaType  = reflect.TypeFor[metav1.ObjectMeta]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// typeChecker finds the Go type of built-in kinds in client-go's scheme and
// describes it. One is created per Read and shared by its workers.
type typeChecker struct {
	known map[schema.GroupVersionKind]reflect.Type

	mu     sync.Mutex
	byGVK  map[schema.GroupVersionKind]typeLookup
	byType map[reflect.Type]*typeInfo
	// byGroupKind lists the versions of each group and kind, built on first use.
	byGroupKind map[schema.GroupKind][]string
	unknown     *typeInfo
}

// typeLookup is the answer for one apiVersion and kind.
type typeLookup struct {
	info *typeInfo
	// checkedAs is set when the exact version is unknown and another version
	// of the same group and kind was used instead.
	checkedAs string
}

func newTypeChecker() *typeChecker {
	return &typeChecker{
		known:  scheme.Scheme.AllKnownTypes(),
		byGVK:  make(map[schema.GroupVersionKind]typeLookup),
		byType: make(map[reflect.Type]*typeInfo),
	}
}

// lookup returns the description of apiVersion/kind. A kind that is not built
// in (a custom resource, or a group client-go does not know) has only its
// metadata described. When the version is unknown but another version of the same group has the
// kind (autoscaling/v2beta1 HorizontalPodAutoscaler, say), that version is
// used: field types rarely change between versions of a kind.
func (c *typeChecker) lookup(apiVersion, kind string) typeLookup {
	c.mu.Lock()
	defer c.mu.Unlock()
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return typeLookup{info: c.unknownKind()}
	}
	gvk := gv.WithKind(kind)
	if l, ok := c.byGVK[gvk]; ok {
		return l
	}
	var l typeLookup
	if t, ok := c.known[gvk]; ok {
		l.info = c.describe(t)
	} else if alt, ok := c.otherVersion(gvk); ok {
		l.info = c.describe(c.known[alt])
		l.checkedAs = alt.GroupVersion().String()
	} else {
		l.info = c.unknownKind()
	}
	c.byGVK[gvk] = l
	return l
}

// unknownKind describes a kind the scheme does not know, such as a custom
// resource: only its metadata, which is an ObjectMeta for every kind, is
// checked. The caller holds c.mu.
func (c *typeChecker) unknownKind() *typeInfo {
	if c.unknown == nil {
		str := c.describe(reflect.TypeFor[string]())
		c.unknown = &typeInfo{kind: kindStruct, fields: map[string]*typeInfo{
			"apiVersion": str,
			"kind":       str,
			"metadata":   c.describe(objectMetaType),
		}}
	}
	return c.unknown
}

// otherVersion finds the preferred version of gvk's group that has its kind.
// The caller holds c.mu.
func (c *typeChecker) otherVersion(gvk schema.GroupVersionKind) (schema.GroupVersionKind, bool) {
	if c.byGroupKind == nil {
		c.byGroupKind = make(map[schema.GroupKind][]string)
		for k := range c.known {
			if k.Version == runtime.APIVersionInternal {
				continue
			}
			gk := k.GroupKind()
			c.byGroupKind[gk] = append(c.byGroupKind[gk], k.Version)
		}
	}
	versions := c.byGroupKind[gvk.GroupKind()]
	if len(versions) == 0 {
		return schema.GroupVersionKind{}, false
	}
	// Prefer a version of the same major number (v2beta2 → v2), then the
	// group's preferred order.
	major := majorVersion(gvk.Version)
	var first string
	for _, gv := range scheme.Scheme.PrioritizedVersionsForGroup(gvk.Group) {
		for _, v := range versions {
			if v != gv.Version {
				continue
			}
			if major != "" && majorVersion(v) == major {
				return gv.WithKind(gvk.Kind), true
			}
			if first == "" {
				first = v
			}
		}
	}
	if first == "" {
		return schema.GroupVersionKind{}, false
	}
	return gvk.GroupKind().WithVersion(first), true
}

// majorVersion returns "v2" for "v2beta1", or "" when v is not a Kubernetes
// version string.
func majorVersion(v string) string {
	if len(v) < 2 || v[0] != 'v' {
		return ""
	}
	i := 1
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 1 {
		return ""
	}
	return v[:i]
}

// describe builds (or returns the cached) description of t. The caller holds c.mu.
func (c *typeChecker) describe(t reflect.Type) *typeInfo {
	if ti, ok := c.byType[t]; ok {
		return ti
	}
	switch t {
	case quantityType:
		return c.remember(t, &typeInfo{kind: kindQuantity})
	case intOrStringType:
		return c.remember(t, &typeInfo{kind: kindIntOrString})
	case timeType:
		return c.remember(t, &typeInfo{kind: kindTime})
	case microTimeType:
		return c.remember(t, &typeInfo{kind: kindMicroTime})
	case durationType:
		return c.remember(t, &typeInfo{kind: kindDuration})
	case rawType:
		return c.remember(t, nil)
	}
	if t.Kind() != reflect.Pointer && (t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
		t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)) {
		// A custom decoder this walker does not know: accept anything.
		return c.remember(t, nil)
	}
	switch t.Kind() {
	case reflect.Pointer:
		ti := c.describe(t.Elem())
		c.byType[t] = ti
		return ti
	case reflect.Interface:
		return c.remember(t, nil)
	case reflect.String:
		return c.remember(t, &typeInfo{kind: kindString})
	case reflect.Bool:
		return c.remember(t, &typeInfo{kind: kindBool})
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return c.remember(t, &typeInfo{kind: kindInt, bits: t.Bits()})
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return c.remember(t, &typeInfo{kind: kindUint, bits: t.Bits()})
	case reflect.Float32, reflect.Float64:
		return c.remember(t, &typeInfo{kind: kindFloat, bits: t.Bits()})
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return c.remember(t, &typeInfo{kind: kindBytes})
		}
		ti := c.remember(t, &typeInfo{kind: kindSlice})
		ti.elem = c.describe(t.Elem())
		return ti
	case reflect.Array:
		ti := c.remember(t, &typeInfo{kind: kindSlice})
		ti.elem = c.describe(t.Elem())
		return ti
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return c.remember(t, nil)
		}
		ti := c.remember(t, &typeInfo{kind: kindMap})
		ti.elem = c.describe(t.Elem())
		return ti
	case reflect.Struct:
		ti := c.remember(t, &typeInfo{kind: kindStruct, objectMeta: t == objectMetaType})
		ti.fields = make(map[string]*typeInfo, t.NumField())
		c.addFields(ti.fields, t, make(map[reflect.Type]bool))
		return ti
	default:
		// Channels, functions and the like never appear in API types.
		return c.remember(t, nil)
	}
}

func (c *typeChecker) remember(t reflect.Type, ti *typeInfo) *typeInfo {
	c.byType[t] = ti
	return ti
}

// addFields adds the JSON fields of struct t to fields, following the rules of
// encoding/json closely enough for API types: a json tag names the field, "-"
// hides it, and an embedded struct without a name (`json:",inline"`) lends its
// fields to the outer struct unless the outer struct has a field of that name.
func (c *typeChecker) addFields(fields map[string]*typeInfo, t reflect.Type, seen map[reflect.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	type embedded struct{ t reflect.Type }
	var promoted []embedded
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				promoted = append(promoted, embedded{ft})
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = c.describe(f.Type)
	}
	for _, e := range promoted {
		inner := make(map[string]*typeInfo)
		c.addFields(inner, e.t, seen)
		for name, ti := range inner {
			if _, ok := fields[name]; !ok {
				fields[name] = ti
			}
		}
	}
}
