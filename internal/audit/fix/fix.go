// Package fix applies the safe part of the audit's advice to manifest files:
// the securityContext defaults (runAsNonRoot, allowPrivilegeEscalation false,
// readOnlyRootFilesystem true, capabilities drop ALL, seccompProfile
// RuntimeDefault) and automountServiceAccountToken false, on every
// pod-bearing object and container. A field someone set explicitly is never
// overwritten; a container without resources is flagged, not guessed.
//
// Edits go through internal/yamledit, so comments, key order and formatting
// of the file are kept and a reviewer sees only the lines that changed. The
// package never prints and never writes: the caller shows the diff or writes
// Result.After.
package fix

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/yamledit"
)

// Change is one edit, or one thing flagged for a person to do.
type Change struct {
	// Line is the line of the object in the original file.
	Line int
	// Object is "Kind/name".
	Object string
	// What says what was set, e.g. `container "web": securityContext.readOnlyRootFilesystem: true`.
	What string
	// Flagged is true for advice that was not applied (resources to set by hand).
	Flagged bool
}

// Result is the outcome for one file.
type Result struct {
	Path          string
	Before, After []byte
	Changes       []Change
}

// Changed reports whether the file's bytes change.
func (r *Result) Changed() bool { return string(r.Before) != string(r.After) }

// File fixes one file's contents. A document that is not a pod-bearing
// object is left as it is.
func File(path string, src []byte) (*Result, error) {
	f, err := yamledit.Parse(path, src)
	if err != nil {
		return nil, err
	}
	res := &Result{Path: path, Before: src}
	for _, doc := range f.Documents() {
		root := doc.Root()
		if root == nil || root.Kind != yaml.MappingNode {
			continue
		}
		if err := fixObject(root, res); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, root.Line, err)
		}
	}
	out, err := f.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	res.After = out
	return res, nil
}

func scalar(n *yaml.Node, path ...string) string {
	v := yamledit.Lookup(n, path...)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

func fixObject(root *yaml.Node, res *Result) error {
	kind := scalar(root, "kind")
	path := audit.PodSpecPath(kind)
	if path == nil {
		return nil
	}
	spec := yamledit.Lookup(root, path...)
	if spec == nil || spec.Kind != yaml.MappingNode {
		return nil
	}
	obj := kind + "/" + scalar(root, "metadata", "name")
	note := func(what string, flagged bool) {
		res.Changes = append(res.Changes, Change{Line: root.Line, Object: obj, What: what, Flagged: flagged})
	}
	windows := scalar(spec, "os", "name") == "windows"

	if yamledit.Lookup(spec, "automountServiceAccountToken") == nil {
		if err := yamledit.SetValue(spec, "automountServiceAccountToken", false); err != nil {
			return err
		}
		note("automountServiceAccountToken: false", false)
	}
	if !windows {
		if err := fixPodSecurity(spec, note); err != nil {
			return err
		}
	}
	for _, group := range []string{"initContainers", "containers"} {
		seq := yamledit.Lookup(spec, group)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		for i, c := range seq.Content {
			if c.Kind != yaml.MappingNode {
				continue
			}
			label := strings.TrimSuffix(group, "s")
			if group == "initContainers" {
				label = "init container"
			}
			label += " " + strconv.Quote(scalar(c, "name"))
			if !windows {
				if err := fixContainer(c, label, note); err != nil {
					return fmt.Errorf("%s[%d]: %w", group, i, err)
				}
			}
			if yamledit.Lookup(c, "resources", "requests") == nil && yamledit.Lookup(c, "resources", "limits") == nil {
				note(label+": no resources; set requests.cpu, requests.memory and limits.memory from observed usage", true)
			}
		}
	}
	return nil
}

// fixPodSecurity sets runAsNonRoot and seccompProfile on the pod unless the
// pod or its containers decide them already.
func fixPodSecurity(spec *yaml.Node, note func(string, bool)) error {
	rootUID := false
	for _, group := range []string{"initContainers", "containers"} {
		seq := yamledit.Lookup(spec, group)
		if seq == nil {
			continue
		}
		for _, c := range seq.Content {
			if scalar(c, "securityContext", "runAsUser") == "0" {
				rootUID = true
			}
		}
	}
	sc := yamledit.Lookup(spec, "securityContext")
	needNonRoot := yamledit.Lookup(sc, "runAsNonRoot") == nil && scalar(sc, "runAsUser") != "0" && !rootUID
	needSeccomp := yamledit.Lookup(sc, "seccompProfile") == nil
	if !needNonRoot && !needSeccomp {
		return nil
	}
	sc, err := yamledit.EnsureMapping(spec, "securityContext")
	if err != nil {
		return err
	}
	if needNonRoot {
		if err := yamledit.SetValue(sc, "runAsNonRoot", true); err != nil {
			return err
		}
		note("securityContext.runAsNonRoot: true", false)
	}
	if needSeccomp {
		if err := yamledit.SetValue(sc, "seccompProfile", map[string]string{"type": "RuntimeDefault"}); err != nil {
			return err
		}
		note("securityContext.seccompProfile.type: RuntimeDefault", false)
	}
	return nil
}

func fixContainer(c *yaml.Node, label string, note func(string, bool)) error {
	sc := yamledit.Lookup(c, "securityContext")
	privileged := scalar(sc, "privileged") == "true"
	adds := yamledit.Lookup(sc, "capabilities", "add")
	sysAdmin := false
	if adds != nil {
		for _, a := range adds.Content {
			if n := strings.TrimPrefix(strings.ToUpper(a.Value), "CAP_"); n == "SYS_ADMIN" || n == "ALL" {
				sysAdmin = true
			}
		}
	}
	type edit struct {
		key   string
		value any
		what  string
	}
	var edits []edit
	if yamledit.Lookup(sc, "allowPrivilegeEscalation") == nil && !privileged && !sysAdmin {
		edits = append(edits, edit{"allowPrivilegeEscalation", false, "securityContext.allowPrivilegeEscalation: false"})
	}
	if yamledit.Lookup(sc, "readOnlyRootFilesystem") == nil {
		edits = append(edits, edit{"readOnlyRootFilesystem", true, "securityContext.readOnlyRootFilesystem: true"})
	}
	drop := yamledit.Lookup(sc, "capabilities", "drop")
	needDrop := drop == nil && !privileged
	if drop != nil && drop.Kind == yaml.SequenceNode && !privileged && !slices.ContainsFunc(drop.Content, func(n *yaml.Node) bool {
		return strings.EqualFold(n.Value, "ALL")
	}) {
		if err := yamledit.Append(drop, yamledit.String("ALL")); err != nil {
			return err
		}
		note(label+": securityContext.capabilities.drop: + ALL", false)
	}
	if len(edits) == 0 && !needDrop {
		return nil
	}
	sc, err := yamledit.EnsureMapping(c, "securityContext")
	if err != nil {
		return err
	}
	for _, e := range edits {
		if err := yamledit.SetValue(sc, e.key, e.value); err != nil {
			return err
		}
		note(label+": "+e.what, false)
	}
	if needDrop {
		caps, err := yamledit.EnsureMapping(sc, "capabilities")
		if err != nil {
			return err
		}
		if err := yamledit.SetValue(caps, "drop", []string{"ALL"}); err != nil {
			return err
		}
		note(label+": securityContext.capabilities.drop: [ALL]", false)
	}
	return nil
}

// Summary lines for people: "path:line Kind/name: what", flagged ones marked.
func (r *Result) Summary() []string {
	out := make([]string, 0, len(r.Changes))
	for _, c := range r.Changes {
		prefix := "fixed"
		if c.Flagged {
			prefix = "TODO"
		}
		out = append(out, fmt.Sprintf("%s:%d %s %s: %s", r.Path, c.Line, prefix, c.Object, c.What))
	}
	return slices.Clip(out)
}
