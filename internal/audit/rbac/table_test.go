package rbac

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/audit/exempt"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/manifest"
)

// TestEachCheck gives every check a passing, a failing, an unset-default
// (a field left out whose default the check must apply) and an exempted
// case, each a small manifest run through the real reader and exemption
// policy.
func TestEachCheck(t *testing.T) {
	const exemptAnn = `
  annotations:
    shipshape.dev/exempt: %s
    shipshape.dev/exempt-reason: reviewed by security`
	role := func(kind, meta, rules string) string {
		ns := ""
		if kind == "Role" {
			ns = "\n  namespace: team"
		}
		return "apiVersion: rbac.authorization.k8s.io/v1\nkind: " + kind + "\nmetadata:\n  name: r" + ns + meta + "\nrules:\n" + rules
	}
	binding := func(kind, meta, ref, subjects string) string {
		ns := ""
		if kind == "RoleBinding" {
			ns = "\n  namespace: team"
		}
		return "apiVersion: rbac.authorization.k8s.io/v1\nkind: " + kind + "\nmetadata:\n  name: b" + ns + meta +
			"\nroleRef: {apiGroup: rbac.authorization.k8s.io, " + ref + "}\nsubjects:\n" + subjects
	}
	ex := func(id string) string { return strings.Replace(exemptAnn, "%s", id, 1) }
	secretRole := "\n---\n" + role("ClusterRole", "", "- {apiGroups: [''], resources: [secrets], verbs: [list]}")

	type tc struct {
		name, doc string
		want      int // findings of the check; for "exempted" the number exempted
	}
	cases := map[string][]tc{
		WildcardCheck: {
			{"pass", role("Role", "", "- {apiGroups: [''], resources: [pods], verbs: [get]}"), 0},
			{"fail", role("ClusterRole", "", "- {apiGroups: [''], resources: ['*'], verbs: ['*']}"), 1},
			{"unset-default", role("Role", "", "- {apiGroups: ['*'], resources: [pods], verbs: [get]}"), 0}, // apiGroups * alone is not judged
			{"exempted", role("ClusterRole", ex(WildcardCheck), "- {apiGroups: [''], resources: ['*'], verbs: [get]}"), 1},
		},
		ClusterAdminCheck: {
			{"pass", binding("ClusterRoleBinding", "", "kind: ClusterRole, name: cluster-admin", "- {kind: Group, name: 'system:masters'}"), 0},
			{"fail", binding("ClusterRoleBinding", "", "kind: ClusterRole, name: cluster-admin", "- {kind: User, name: alice}"), 1},
			{"pass-kubeadm-admins", binding("ClusterRoleBinding", "", "kind: ClusterRole, name: cluster-admin", "- {kind: Group, name: 'kubeadm:cluster-admins'}"), 0},
			{"fail-user-named-like-kubeadm-group", binding("ClusterRoleBinding", "", "kind: ClusterRole, name: cluster-admin", "- {kind: User, name: 'kubeadm:cluster-admins'}"), 1},
			// An unset SA namespace in a RoleBinding means the binding's own, not kube-system.
			{"unset-default", binding("RoleBinding", "", "kind: ClusterRole, name: cluster-admin", "- {kind: ServiceAccount, name: ops}"), 1},
			{"exempted", binding("ClusterRoleBinding", ex(ClusterAdminCheck), "kind: ClusterRole, name: cluster-admin", "- {kind: User, name: alice}"), 1},
		},
		EscalationCheck: {
			{"pass", role("Role", "", "- {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [get, list]}"), 0},
			{"fail", role("ClusterRole", "", "- {apiGroups: [''], resources: [serviceaccounts], verbs: [impersonate]}"), 1},
			{"unset-default", role("Role", "", "- {apiGroups: [rbac.authorization.k8s.io], resources: ['*'], verbs: ['*']}"), 1}, // through wildcards
			{"exempted", role("Role", ex(EscalationCheck), "- {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [bind]}"), 1},
		},
		SecretsCheck: {
			{"pass", binding("RoleBinding", "", "kind: ClusterRole, name: r", "- {kind: User, name: alice}") + secretRole, 0},
			{"fail", binding("ClusterRoleBinding", "", "kind: ClusterRole, name: r", "- {kind: User, name: alice}") + secretRole, 1},
			// A rule without apiGroups matches no group (not the core group), so it grants
			// nothing; the API server would refuse such a role.
			{"unset-default", binding("ClusterRoleBinding", "", "kind: ClusterRole, name: r", "- {kind: User, name: alice}") +
				"\n---\n" + role("ClusterRole", "", "- {resources: [secrets], verbs: [list]}"), 0},
			{"pass-resource-names", binding("ClusterRoleBinding", "", "kind: ClusterRole, name: r", "- {kind: User, name: alice}") +
				"\n---\n" + role("ClusterRole", "", "- {apiGroups: [''], resources: [secrets], resourceNames: [one], verbs: [get]}"), 0},
			{"exempted", binding("ClusterRoleBinding", ex(SecretsCheck), "kind: ClusterRole, name: r", "- {kind: User, name: alice}") + secretRole, 1},
		},
		ExecAttachCheck: {
			{"pass", role("Role", "", "- {apiGroups: [''], resources: [pods, pods/log], verbs: [get, create]}"), 0},
			{"fail", role("Role", "", "- {apiGroups: [''], resources: [pods/attach], verbs: [create]}"), 1},
			{"unset-default", role("ClusterRole", "", "- {apiGroups: [''], resources: ['*/exec'], verbs: [create]}"), 1},
			{"exempted", role("Role", ex(ExecAttachCheck), "- {apiGroups: [''], resources: [pods/exec], verbs: [create]}"), 1},
		},
		AnonymousCheck: {
			{"pass", binding("ClusterRoleBinding", "", "kind: ClusterRole, name: view", "- {kind: Group, name: 'system:authenticated'}"), 0},
			{"fail", binding("ClusterRoleBinding", "", "kind: ClusterRole, name: view", "- {kind: User, name: 'system:anonymous'}"), 1},
			{"unset-default", binding("RoleBinding", "", "kind: ClusterRole, name: view", "- {kind: Group, name: 'system:unauthenticated'}"), 1},
			{"exempted", binding("RoleBinding", ex(AnonymousCheck), "kind: ClusterRole, name: view", "- {kind: Group, name: 'system:unauthenticated'}"), 1},
		},
		DefaultSACheck: {
			{"pass", binding("RoleBinding", "", "kind: ClusterRole, name: view", "- {kind: ServiceAccount, name: app}"), 0},
			{"fail", binding("ClusterRoleBinding", "", "kind: ClusterRole, name: view", "- {kind: ServiceAccount, name: default, namespace: web}"), 1},
			{"unset-default", binding("RoleBinding", "", "kind: ClusterRole, name: view", "- {kind: ServiceAccount, name: default}"), 1},
			{"exempted", binding("RoleBinding", ex(DefaultSACheck), "kind: ClusterRole, name: view", "- {kind: ServiceAccount, name: default}"), 1},
		},
	}
	byID := map[string]finding.Check{}
	for _, c := range Checks() {
		byID[c.ID] = c
	}
	if len(cases) != len(byID) {
		t.Fatalf("%d checks have cases, %d checks exist", len(cases), len(byID))
	}
	for id, tcs := range cases {
		for _, tt := range tcs {
			t.Run(id+"/"+tt.name, func(t *testing.T) {
				objs, inv, err := manifest.NewDecoder(manifest.Options{}).Decode(context.Background(), strings.NewReader(tt.doc), tt.name+".yaml")
				if err != nil || len(inv) > 0 {
					t.Fatalf("fixture: %v %+v\n%s", err, inv, tt.doc)
				}
				s := readFixtureObjects(objs)
				fs, err := byID[id].Run(context.Background(), s)
				if err != nil {
					t.Fatal(err)
				}
				kept, exempted := (*exempt.Policy)(nil).Split(fs, s)
				got := len(kept)
				if tt.name == "exempted" {
					got = len(exempted)
					if len(kept) != 0 {
						t.Errorf("exempted case kept %d finding(s)", len(kept))
					}
				}
				if got != tt.want {
					t.Errorf("got %d finding(s), want %d: %+v\n%s", got, tt.want, fs, tt.doc)
				}
				for _, f := range fs {
					if f.Location == nil || f.Location.Line == 0 || f.Object == nil {
						t.Errorf("finding without file:line or object: %+v", f)
					}
					if !slices.Contains([]finding.Severity{finding.Medium, finding.High, finding.Critical}, f.Severity) || f.Severity > byID[id].Severity {
						t.Errorf("severity %s above the check's %s", f.Severity, byID[id].Severity)
					}
				}
			})
		}
	}
}
