package rbac

import (
	"cmp"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Grant is one subject allowed to make a request, and the bindings that
// allow it.
type Grant struct {
	// Kind is User, Group or ServiceAccount.
	Kind      string   `json:"kind"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name"`
	Via       []string `json:"via"`
}

// WhoCan lists every subject that the model's RBAC objects allow to make the
// request, sorted by kind, namespace and name. The group system:masters is
// always listed: the API server allows it without asking RBAC. Bindings whose
// role the snapshot does not hold grant nothing here.
func (m *Model) WhoCan(a Attributes) []Grant {
	byKey := map[[3]string]*Grant{}
	add := func(kind, ns, name, why string) {
		k := [3]string{kind, ns, name}
		g := byKey[k]
		if g == nil {
			g = &Grant{Kind: kind, Namespace: ns, Name: name}
			byKey[k] = g
		}
		if !slices.Contains(g.Via, why) {
			g.Via = append(g.Via, why)
		}
	}
	add(rbacv1.GroupKind, "", "system:masters", "the API server's superuser group")
	for _, b := range m.Bindings {
		if !bindingApplies(b, a) {
			continue
		}
		r := m.RoleOf(b)
		if r == nil || !slices.ContainsFunc(r.Rules, func(rule rbacv1.PolicyRule) bool { return RuleAllows(rule, a) }) {
			continue
		}
		for _, s := range b.Subjects {
			ns := ""
			if s.Kind == rbacv1.ServiceAccountKind {
				ns = cmp.Or(s.Namespace, b.Namespace)
			}
			add(s.Kind, ns, s.Name, via(b))
		}
	}
	out := make([]Grant, 0, len(byKey))
	for _, g := range byKey {
		slices.Sort(g.Via)
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b Grant) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}
