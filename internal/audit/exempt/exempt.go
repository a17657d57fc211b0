// Package exempt decides which findings are exempted: by a policy file
// (check, namespace and name patterns, a reason and an expiry date) and by
// the annotations shipshape.dev/exempt and shipshape.dev/exempt-reason on the
// object a finding is about. The policy file can switch annotations off, so
// that the people who deploy cannot exempt themselves.
//
// Exemptions never delete a finding: Split returns the exempted ones, each
// with the reason it was exempted, for counting and listing. An expired
// exemption stops exempting and says so in the finding's message. The
// package judges nothing itself and never prints.
package exempt

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// The annotations that exempt an object.
const (
	// Annotation lists check IDs (or patterns such as "audit/*"), comma-separated.
	Annotation = "shipshape.dev/exempt"
	// ReasonAnnotation is required: an annotation exemption without a reason
	// does not exempt.
	ReasonAnnotation = "shipshape.dev/exempt-reason"
)

// Policy is a loaded exemptions file. The zero value and a nil *Policy
// exempt by annotation only.
type Policy struct {
	// Path is the file the policy was loaded from.
	Path string
	// Annotations is false when the file switches annotation exemptions off.
	Annotations bool
	// Entries are the file's exemptions, in file order.
	Entries []Entry
	// Now returns the current time, for expiry; nil means time.Now.
	Now func() time.Time
}

// Entry is one exemption of the file.
type Entry struct {
	// Check is a check ID or a path.Match pattern ("audit/*").
	Check string
	// Namespace is a pattern for the object's namespace; empty matches any.
	Namespace string
	// Names are patterns for the object's name; empty matches any.
	Names []string
	// Reason says why; it is required.
	Reason string
	// Expires is the first day on which the entry no longer exempts; zero means never.
	Expires time.Time
	// Line is the entry's line in the file.
	Line int
}

// fileFormat is the YAML layout of an exemptions file.
type fileFormat struct {
	Annotations *bool         `yaml:"annotations"`
	Exemptions  []entryFormat `yaml:"exemptions"`
}

type entryFormat struct {
	Check     string   `yaml:"check"`
	Namespace string   `yaml:"namespace"`
	Name      string   `yaml:"name"`
	Names     []string `yaml:"names"`
	Reason    string   `yaml:"reason"`
	Expires   string   `yaml:"expires"`
}

// Load reads an exemptions file:
//
//	annotations: false          # optional; default true
//	exemptions:
//	  - check: audit/host-path  # a check ID or pattern, required
//	    namespace: monitoring   # optional pattern
//	    names: [node-exporter*] # optional patterns (or name: one pattern)
//	    reason: reads node metrics from /proc and /sys   # required
//	    expires: 2027-03-31     # optional date
//
// Errors name the file and line.
func Load(file string) (*Policy, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read exemptions: %w", err)
	}
	return parse(file, b)
}

func parse(file string, b []byte) (*Policy, error) {
	p := &Policy{Path: file, Annotations: true}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(root.Content) == 0 {
		return p, nil
	}
	var ff fileFormat
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&ff); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if ff.Annotations != nil {
		p.Annotations = *ff.Annotations
	}
	lines := entryLines(root.Content[0])
	for i, e := range ff.Exemptions {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		where := fmt.Sprintf("%s:%d", file, line)
		en := Entry{Check: strings.TrimSpace(e.Check), Namespace: e.Namespace, Names: e.Names, Reason: strings.TrimSpace(e.Reason), Line: line}
		if e.Name != "" {
			en.Names = append(en.Names, e.Name)
		}
		if en.Check == "" {
			return nil, fmt.Errorf("%s: exemption without check", where)
		}
		if en.Reason == "" {
			return nil, fmt.Errorf("%s: exemption of %q without reason", where, en.Check)
		}
		for _, pat := range append([]string{en.Check, en.Namespace}, en.Names...) {
			if _, err := path.Match(pat, ""); err != nil {
				return nil, fmt.Errorf("%s: bad pattern %q: %w", where, pat, err)
			}
		}
		if e.Expires != "" {
			t, err := time.Parse(time.DateOnly, e.Expires)
			if err != nil {
				return nil, fmt.Errorf("%s: expires %q: want a date such as 2027-03-31", where, e.Expires)
			}
			en.Expires = t.AddDate(0, 0, 1) // the whole named day still exempts
		}
		p.Entries = append(p.Entries, en)
	}
	return p, nil
}

// entryLines returns the line of each item of the exemptions list.
func entryLines(doc *yaml.Node) []int {
	if doc.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "exemptions" && doc.Content[i+1].Kind == yaml.SequenceNode {
			var out []int
			for _, it := range doc.Content[i+1].Content {
				out = append(out, it.Line)
			}
			return out
		}
	}
	return nil
}

func (p *Policy) now() time.Time {
	if p != nil && p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Split returns the findings that stay (kept) and those an exemption
// covers (exempted, each with Exemption set to its reason and source), both
// in input order. A finding whose exemption has expired is kept, and its
// message says which exemption expired. Findings about no object (an
// unreadable document) are never exempted.
func (p *Policy) Split(fs []finding.Finding, s *snapshot.Snapshot) (kept, exempted []finding.Finding) {
	annotations := p == nil || p.Annotations
	var byObject map[objectKey]map[string]string
	if annotations && s != nil {
		byObject = annotationIndex(s)
	}
	now := p.now()
	for _, f := range fs {
		if f.Object == nil {
			kept = append(kept, f)
			continue
		}
		reason, expired := "", ""
		if p != nil {
			reason, expired = p.match(f, now)
		}
		if reason == "" && annotations {
			var note string
			reason, note = annotationReason(f, byObject)
			if expired == "" {
				expired = note
			}
		}
		if reason != "" {
			f.Exemption = reason
			exempted = append(exempted, f)
			continue
		}
		if expired != "" {
			f.Message += " [" + expired + "]"
		}
		kept = append(kept, f)
	}
	return kept, exempted
}

// match returns the reason of the first entry that exempts f, or a note on
// an expired entry that would have.
func (p *Policy) match(f finding.Finding, now time.Time) (reason, expired string) {
	for _, e := range p.Entries {
		if !matches(e.Check, f.Check) || (e.Namespace != "" && !matches(e.Namespace, f.Object.Namespace)) {
			continue
		}
		if len(e.Names) > 0 && !anyMatch(e.Names, f.Object.Name) {
			continue
		}
		if !e.Expires.IsZero() && !now.Before(e.Expires) {
			if expired == "" {
				expired = fmt.Sprintf("exemption at %s:%d expired on %s", p.Path, e.Line, e.Expires.AddDate(0, 0, -1).Format(time.DateOnly))
			}
			continue
		}
		return fmt.Sprintf("%s (%s:%d)", e.Reason, p.Path, e.Line), ""
	}
	return "", expired
}

func matches(pattern, s string) bool {
	if pattern == s {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if matches(p, s) {
			return true
		}
	}
	return false
}

type objectKey struct {
	kind, namespace, name, path string
	line                        int
}

func keyOfFinding(f finding.Finding) objectKey {
	k := objectKey{kind: f.Object.Kind, namespace: f.Object.Namespace, name: f.Object.Name}
	if f.Location != nil {
		k.path, k.line = f.Location.Path, f.Location.Line
	}
	return k
}

// annotationIndex maps each object that carries the exempt annotation to
// its annotations.
func annotationIndex(s *snapshot.Snapshot) map[objectKey]map[string]string {
	out := map[objectKey]map[string]string{}
	for _, o := range s.Objects {
		if o.Unstructured == nil {
			continue
		}
		a := o.GetAnnotations()
		if _, ok := a[Annotation]; !ok {
			continue
		}
		k := objectKey{kind: o.GetKind(), namespace: o.GetNamespace(), name: o.GetName()}
		if !o.Origin.IsZero() {
			k.path, k.line = o.Origin.Path, o.Origin.Line
		}
		out[k] = a
	}
	return out
}

// errNoReason is the note on an annotation exemption without a reason.
var errNoReason = errors.New("annotation " + Annotation + " ignored: " + ReasonAnnotation + " is missing")

func annotationReason(f finding.Finding, idx map[objectKey]map[string]string) (reason, note string) {
	a, ok := idx[keyOfFinding(f)]
	if !ok {
		return "", ""
	}
	listed := false
	for _, c := range strings.Split(a[Annotation], ",") {
		if c = strings.TrimSpace(c); c != "" && matches(c, f.Check) {
			listed = true
			break
		}
	}
	if !listed {
		return "", ""
	}
	r := strings.TrimSpace(a[ReasonAnnotation])
	if r == "" {
		return "", errNoReason.Error()
	}
	return r + " (annotation " + Annotation + ")", ""
}
