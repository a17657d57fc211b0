// Package finding is shipshape's one findings model: what a check is, what it
// reports, and the report that renderers print.
//
// It judges nothing and prints nothing; checks live in capability packages and
// renderers in internal/render.
package finding

import (
	"cmp"
	"fmt"
	"slices"
)

// Object names the Kubernetes object a finding is about.
type Object struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
}

// String formats o like kubectl does: kind/name, with the namespace when set.
func (o Object) String() string {
	s := o.Kind
	if s == "" {
		s = "object"
	}
	if o.Name != "" {
		s += "/" + o.Name
	}
	if o.Namespace != "" {
		s = o.Namespace + "/" + s
	}
	return s
}

// Location is a position in a file.
type Location struct {
	Path string `json:"path"`
	Line int    `json:"line,omitempty"`
}

// String formats l as path:line.
func (l Location) String() string {
	if l.Line > 0 {
		return fmt.Sprintf("%s:%d", l.Path, l.Line)
	}
	return l.Path
}

// Finding is one thing a check found. Object, Location or both say where.
type Finding struct {
	Check       string    `json:"check"`
	Severity    Severity  `json:"severity"`
	Message     string    `json:"message"`
	Remediation string    `json:"remediation,omitempty"`
	DocsURL     string    `json:"docsURL,omitempty"`
	Object      *Object   `json:"object,omitempty"`
	Location    *Location `json:"location,omitempty"`
	// Exemption says why an exempted finding was exempted, and by what
	// (a policy file entry or an annotation); it is empty for others.
	Exemption string `json:"exemption,omitempty"`
}

// Where formats the finding's position for people: path:line, the object, or both.
func (f Finding) Where() string {
	switch {
	case f.Location != nil && f.Object != nil:
		return f.Location.String() + " (" + f.Object.String() + ")"
	case f.Location != nil:
		return f.Location.String()
	case f.Object != nil:
		return f.Object.String()
	}
	return ""
}

// Compare orders findings for output: most severe first, then by check, then
// by position and message, so that reports are deterministic and diffable.
func Compare(a, b Finding) int {
	if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Check, b.Check); c != 0 {
		return c
	}
	if c := compareLocation(a.Location, b.Location); c != 0 {
		return c
	}
	if c := compareObject(a.Object, b.Object); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Message, b.Message); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Remediation, b.Remediation); c != 0 {
		return c
	}
	return cmp.Compare(a.DocsURL, b.DocsURL)
}

func compareLocation(a, b *Location) int {
	return compareOptional(a, b, func(a, b *Location) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line))
	})
}

func compareObject(a, b *Object) int {
	return compareOptional(a, b, func(a, b *Object) int {
		return cmp.Or(
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.APIVersion, b.APIVersion),
		)
	})
}

// compareOptional puts present values before absent ones and compares two
// present ones with f.
func compareOptional[T any](a, b *T, f func(a, b *T) int) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return f(a, b)
}

// Sort orders findings with Compare.
func Sort(fs []Finding) { slices.SortStableFunc(fs, Compare) }
