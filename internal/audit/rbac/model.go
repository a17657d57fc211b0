// Package rbac judges Kubernetes RBAC objects (Roles, ClusterRoles and their
// bindings) in a snapshot: the RBAC hardening checks of `shipshape audit`
// and `shipshape scan`, and the who-can evaluation behind
// `shipshape audit who-can`.
//
// It reads snapshots only: it never talks to an API server and never prints.
// Aggregated ClusterRoles (aggregationRule) are resolved from the
// ClusterRoles the snapshot holds, as the API server's aggregation
// controller would.
package rbac

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

const rbacGroup = "rbac.authorization.k8s.io"

// Role is a Role or ClusterRole with its effective rules.
type Role struct {
	Kind      string // "Role" or "ClusterRole"
	Namespace string
	Name      string
	// Rules are the role's own rules plus, for an aggregated ClusterRole,
	// the rules of every ClusterRole its aggregationRule selects.
	Rules []rbacv1.PolicyRule
	// Own are the rules written in the object itself.
	Own []rbacv1.PolicyRule
	// Default marks the API server's bootstrap roles and bindings
	// (label kubernetes.io/bootstrapping=rbac-defaults).
	Default bool
	Labels  map[string]string
	Object  snapshot.Object

	aggregation *rbacv1.AggregationRule
}

// Binding is a RoleBinding or ClusterRoleBinding.
type Binding struct {
	Kind      string // "RoleBinding" or "ClusterRoleBinding"
	Namespace string
	Name      string
	RoleRef   rbacv1.RoleRef
	Subjects  []rbacv1.Subject
	Default   bool
	Object    snapshot.Object
}

// Model is the RBAC objects of a snapshot, decoded and indexed.
type Model struct {
	// ClusterRoles by name; Roles by namespace/name.
	ClusterRoles map[string]*Role
	Roles        map[string]*Role
	// Bindings in snapshot order.
	Bindings []*Binding
	// Problems are RBAC objects that could not be decoded, by object.
	Problems []Problem
}

// Problem is an RBAC object that could not be decoded.
type Problem struct {
	Object snapshot.Object
	Err    error
}

func isDefault(l map[string]string) bool { return l["kubernetes.io/bootstrapping"] == "rbac-defaults" }

// NewModel decodes the RBAC objects of s. Objects of other kinds are ignored;
// RBAC objects that do not decode are listed in Problems, never fatal.
func NewModel(s *snapshot.Snapshot) *Model {
	m := &Model{ClusterRoles: map[string]*Role{}, Roles: map[string]*Role{}}
	for _, o := range s.Objects {
		if o.Unstructured == nil || !isRBAC(o.Object) {
			continue
		}
		kind, _ := o.Object["kind"].(string)
		if kind != "ClusterRole" && kind != "Role" && kind != "ClusterRoleBinding" && kind != "RoleBinding" {
			continue
		}
		if err := m.add(kind, o); err != nil {
			m.Problems = append(m.Problems, Problem{Object: o, Err: fmt.Errorf("decode %s %s: %w", kind, o.GetName(), err)})
		}
	}
	m.aggregate()
	return m
}

func (m *Model) add(kind string, o snapshot.Object) error {
	name, ns, labels, err := meta(o.Object)
	if err != nil {
		return err
	}
	switch kind {
	case "ClusterRole", "Role":
		rules, err := decodeRules(o.Object)
		if err != nil {
			return err
		}
		r := &Role{Kind: kind, Name: name, Own: rules, Rules: rules, Default: isDefault(labels), Labels: labels, Object: o}
		if kind == "Role" {
			r.Namespace = ns
			m.Roles[ns+"/"+name] = r
			return nil
		}
		if r.aggregation, err = decodeAggregation(o.Object); err != nil {
			return err
		}
		m.ClusterRoles[name] = r
	default:
		ref, subs, err := decodeBinding(o.Object)
		if err != nil {
			return err
		}
		b := &Binding{Kind: kind, Name: name, RoleRef: ref, Subjects: subs, Default: isDefault(labels), Object: o}
		if kind == "RoleBinding" {
			b.Namespace = ns
		}
		m.Bindings = append(m.Bindings, b)
	}
	return nil
}

// aggregate fills the effective rules of every ClusterRole. An aggregated
// ClusterRole gets the rules of every other ClusterRole whose labels match
// one of its selectors; aggregation is repeated until nothing changes, so
// aggregated roles that select aggregated roles resolve too.
func (m *Model) aggregate() {
	names := make([]string, 0, len(m.ClusterRoles))
	for n, r := range m.ClusterRoles {
		names = append(names, n)
		r.Rules = slices.Clone(r.Own)
	}
	sort.Strings(names)
	for range len(names) + 1 {
		changed := false
		for _, n := range names {
			r := m.ClusterRoles[n]
			if r.aggregation == nil {
				continue
			}
			var sels []labels.Selector
			for _, ls := range r.aggregation.ClusterRoleSelectors {
				sel, err := metav1.LabelSelectorAsSelector(&ls)
				if err != nil || sel.Empty() {
					continue // the API server rejects such selectors; an empty one selects nothing here
				}
				sels = append(sels, sel)
			}
			rules := slices.Clone(r.Own)
			for _, other := range names {
				if other == n {
					continue
				}
				o := m.ClusterRoles[other]
				for _, sel := range sels {
					if sel.Matches(labels.Set(o.Labels)) {
						for _, rule := range o.Rules {
							if !containsRule(rules, rule) {
								rules = append(rules, rule)
							}
						}
						break
					}
				}
			}
			if len(rules) != len(r.Rules) {
				r.Rules = rules
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

func containsRule(rules []rbacv1.PolicyRule, r rbacv1.PolicyRule) bool {
	for _, x := range rules {
		if slices.Equal(x.Verbs, r.Verbs) && slices.Equal(x.APIGroups, r.APIGroups) && slices.Equal(x.Resources, r.Resources) &&
			slices.Equal(x.ResourceNames, r.ResourceNames) && slices.Equal(x.NonResourceURLs, r.NonResourceURLs) {
			return true
		}
	}
	return false
}

// RoleOf returns the role a binding refers to, or nil when the snapshot does
// not hold it.
func (m *Model) RoleOf(b *Binding) *Role {
	switch b.RoleRef.Kind {
	case "ClusterRole":
		return m.ClusterRoles[b.RoleRef.Name]
	case "Role":
		return m.Roles[b.Namespace+"/"+b.RoleRef.Name]
	}
	return nil
}

// Attributes is one request to authorize: a resource request (Resource set)
// or a non-resource one (Path set).
type Attributes struct {
	Verb        string
	Group       string
	Resource    string
	Subresource string
	// Namespace is empty for cluster-scoped resources and for requests
	// across all namespaces.
	Namespace string
	// Name is the object's name, empty for list, watch and create.
	Name string
	// Path is a non-resource URL such as /healthz.
	Path string
}

// String formats a as "verb group/resource/subresource[name] in ns".
func (a Attributes) String() string {
	if a.Path != "" {
		return a.Verb + " " + a.Path
	}
	r := a.Resource
	if a.Group != "" {
		r = r + "." + a.Group
	}
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	if a.Name != "" {
		r += " " + a.Name
	}
	if a.Namespace != "" {
		return a.Verb + " " + r + " in namespace " + a.Namespace
	}
	return a.Verb + " " + r + " cluster-wide"
}

// RuleAllows reports whether rule grants the request, with the API server's
// RBAC matching: "*" matches any verb, group or resource, "*/sub" any
// resource's subresource sub, resourceNames restrict to named objects (and
// so never match a request without a name), and a non-resource URL ending
// in "*" matches by prefix.
func RuleAllows(rule rbacv1.PolicyRule, a Attributes) bool {
	if !hasOrStar(rule.Verbs, a.Verb) {
		return false
	}
	if a.Path != "" {
		for _, u := range rule.NonResourceURLs {
			if u == "*" || u == a.Path || (strings.HasSuffix(u, "*") && strings.HasPrefix(a.Path, strings.TrimSuffix(u, "*"))) {
				return true
			}
		}
		return false
	}
	if !hasOrStar(rule.APIGroups, a.Group) {
		return false
	}
	if !resourceMatches(rule.Resources, a.Resource, a.Subresource) {
		return false
	}
	if len(rule.ResourceNames) == 0 {
		return true
	}
	return a.Name != "" && slices.Contains(rule.ResourceNames, a.Name)
}

func hasOrStar(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || x == v {
			return true
		}
	}
	return false
}

func resourceMatches(list []string, resource, sub string) bool {
	want := resource
	if sub != "" {
		want += "/" + sub
	}
	for _, r := range list {
		if r == "*" || r == want {
			return true
		}
		if sub != "" && r == "*/"+sub {
			return true
		}
	}
	return false
}

// User is an authenticated identity: a user name and its groups, as the API
// server sees it.
type User struct {
	Name   string
	Groups []string
}

// ServiceAccountUser returns the identity a service account's token
// authenticates as.
func ServiceAccountUser(namespace, name string) User {
	return User{
		Name:   "system:serviceaccount:" + namespace + ":" + name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
	}
}

// subjectMatches reports whether the binding subject s names user u. A
// RoleBinding subject of kind ServiceAccount without a namespace means the
// binding's namespace, as in the API server.
func subjectMatches(s rbacv1.Subject, bindingNS string, u User) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return s.Name == u.Name
	case rbacv1.GroupKind:
		return slices.Contains(u.Groups, s.Name)
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNS
		}
		return ns != "" && u.Name == "system:serviceaccount:"+ns+":"+s.Name
	}
	return false
}

// bindingApplies reports whether b can grant requests in namespace ns:
// ClusterRoleBindings everywhere, RoleBindings in their own namespace only.
func bindingApplies(b *Binding, a Attributes) bool {
	if b.Kind == "ClusterRoleBinding" {
		return true
	}
	return a.Path == "" && a.Namespace != "" && a.Namespace == b.Namespace
}

// Allows reports whether the RBAC objects of the model grant the request to
// u, and through which binding. The API server's superuser group
// system:masters is always allowed, as the API server authorizes it before
// RBAC is asked.
func (m *Model) Allows(u User, a Attributes) (bool, string) {
	if slices.Contains(u.Groups, "system:masters") {
		return true, "group system:masters (the API server's superuser group)"
	}
	for _, b := range m.Bindings {
		if !bindingApplies(b, a) {
			continue
		}
		r := m.RoleOf(b)
		if r == nil {
			continue
		}
		hit := false
		for _, s := range b.Subjects {
			if subjectMatches(s, b.Namespace, u) {
				hit = true
				break
			}
		}
		if !hit {
			continue
		}
		for _, rule := range r.Rules {
			if RuleAllows(rule, a) {
				return true, via(b)
			}
		}
	}
	return false, ""
}

func via(b *Binding) string {
	s := b.Kind + " " + b.Name
	if b.Namespace != "" {
		s = b.Kind + " " + b.Namespace + "/" + b.Name
	}
	return s + " -> " + b.RoleRef.Kind + " " + b.RoleRef.Name
}
