package rbac

import (
	"context"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Check IDs.
const (
	WildcardCheck        = "rbac/wildcard"
	ClusterAdminCheck    = "rbac/cluster-admin"
	EscalationCheck      = "rbac/escalation-verbs"
	SecretsCheck         = "rbac/cluster-wide-secret-read"
	ExecAttachCheck      = "rbac/pod-exec-attach"
	AnonymousCheck       = "rbac/anonymous-binding"
	DefaultSACheck       = "rbac/default-service-account"
	docsURL              = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"
	skipDefaultsDocShort = `Roles and bindings the API server creates itself (label
kubernetes.io/bootstrapping=rbac-defaults) are not reported: they are the platform, not a choice.`
)

// Checks returns the RBAC checks.
func Checks() []finding.Check {
	return []finding.Check{
		{
			ID: WildcardCheck, Title: "Role grants every verb or every resource with a wildcard", Severity: finding.High, DocsURL: docsURL,
			Doc: `Reports Roles and ClusterRoles with a rule whose verbs or resources contain "*". A wildcard
grants today's verbs and resources and every one added later, including subresources such as
pods/exec and verbs such as escalate (NSA/CISA: least-privilege RBAC). Only the rules written in
the object are judged; an aggregated ClusterRole is judged through the roles it aggregates.
` + skipDefaultsDocShort + ` Fix: list the verbs and resources the subject needs.`,
			Run: run(wildcard),
		},
		{
			ID: ClusterAdminCheck, Title: "cluster-admin (or an equivalent role) bound outside system components", Severity: finding.Critical, DocsURL: docsURL,
			Doc: `Reports bindings to the ClusterRole cluster-admin, or to any role whose effective rules
(aggregation resolved) grant every verb on every resource of every API group, whose subjects are
not system components. System components are users and groups named system:*, service
accounts in kube-system, and kubeadm's administrators group kubeadm:cluster-admins (the group
of the admin.conf credentials kubeadm writes since 1.29). A ClusterRoleBinding makes the subject superuser of the whole cluster; a
RoleBinding full owner of the namespace. ` + skipDefaultsDocShort + ` Fix: bind a role with the
permissions the subject needs.`,
			Run: run(clusterAdmin),
		},
		{
			ID: EscalationCheck, Title: "Role grants escalate, bind or impersonate", Severity: finding.High, DocsURL: docsURL,
			Doc: `Reports Roles and ClusterRoles that grant escalate or bind on roles/clusterroles, or
impersonate on users, groups, service accounts or user extras, whether named or through a
wildcard. Each lets the holder obtain permissions it was not given: escalate and bind side-step
RBAC's privilege-escalation prevention, impersonate acts as another identity. ` + skipDefaultsDocShort + `
Fix: remove these verbs; grant them only to controllers that manage RBAC.`,
			Run: run(escalation),
		},
		{
			ID: SecretsCheck, Title: "Secrets readable in every namespace", Severity: finding.High, DocsURL: docsURL,
			Doc: `Reports ClusterRoleBindings whose ClusterRole (aggregation resolved) grants get, list or watch
on secrets, to subjects that are not system components. list and watch return Secret values too,
so this reads every credential of the cluster. The role must be in the input to be judged;
bindings to cluster-admin are reported by rbac/cluster-admin instead. ` + skipDefaultsDocShort + `
Fix: use RoleBindings in the namespaces that need it, or resourceNames.`,
			Run: run(secretsClusterWide),
		},
		{
			ID: ExecAttachCheck, Title: "Role allows exec or attach into pods", Severity: finding.Medium, DocsURL: docsURL,
			Doc: `Reports Roles and ClusterRoles granting create or get on pods/exec or pods/attach (directly
or through wildcards). Both open a shell or stream into running containers, with their service
account token and mounted Secrets. ` + skipDefaultsDocShort + ` Fix: grant exec to break-glass
roles only.`,
			Run: run(execAttach),
		},
		{
			ID: AnonymousCheck, Title: "Binding to system:anonymous or system:unauthenticated", Severity: finding.Critical, DocsURL: docsURL,
			Doc: `Reports bindings with subject user system:anonymous or group system:unauthenticated: they
grant their role to anyone who can reach the API server. ` + skipDefaultsDocShort + ` Fix: bind
authenticated identities instead.`,
			Run: run(anonymous),
		},
		{
			ID: DefaultSACheck, Title: "Binding to a namespace's default ServiceAccount", Severity: finding.Medium, DocsURL: docsURL,
			Doc: `Reports bindings whose subject is a ServiceAccount named default. Every pod that names no
service account runs as default, so the permissions reach every such pod of the namespace.
` + skipDefaultsDocShort + ` Fix: create a dedicated ServiceAccount for the workload that needs it.`,
			Run: run(defaultSA),
		},
	}
}

func run(f func(m *Model, add func(o snapshot.Object, sev finding.Severity, id, msg, fix string))) func(context.Context, *snapshot.Snapshot) ([]finding.Finding, error) {
	return func(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
		m := NewModel(s)
		var out []finding.Finding
		f(m, func(o snapshot.Object, sev finding.Severity, id, msg, fix string) {
			out = append(out, finding.Finding{Check: id, Severity: sev, Message: msg, Remediation: fix, DocsURL: docsURL, Object: finding.ObjectOf(o), Location: finding.LocationOf(o)})
		})
		return out, nil
	}
}

// roles returns the model's non-default roles in a stable order.
func (m *Model) roles() []*Role {
	var out []*Role
	for _, r := range m.ClusterRoles {
		if !r.Default {
			out = append(out, r)
		}
	}
	for _, r := range m.Roles {
		if !r.Default {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *Role) int {
		return strings.Compare(a.Kind+"/"+a.Namespace+"/"+a.Name, b.Kind+"/"+b.Namespace+"/"+b.Name)
	})
	return out
}

func (r *Role) ref() string {
	if r.Namespace != "" {
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return r.Kind + " " + r.Name
}

func wildcard(m *Model, add func(snapshot.Object, finding.Severity, string, string, string)) {
	for _, r := range m.roles() {
		for i, rule := range r.Own {
			var what []string
			if slices.Contains(rule.Verbs, "*") {
				what = append(what, "every verb")
			}
			if slices.Contains(rule.Resources, "*") {
				what = append(what, "every resource")
			}
			if len(what) > 0 {
				add(r.Object, finding.High, WildcardCheck,
					fmt.Sprintf("%s rule %d grants %s with a wildcard", r.ref(), i+1, strings.Join(what, " and ")),
					"List the verbs and resources that are needed instead of \"*\".")
			}
		}
	}
}

// isSystemSubject reports whether s is a Kubernetes system component.
func isSystemSubject(s rbacv1.Subject) bool {
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		return s.Namespace == "kube-system"
	case rbacv1.GroupKind:
		return strings.HasPrefix(s.Name, "system:") || s.Name == kubeadmAdminsGroup
	default:
		return strings.HasPrefix(s.Name, "system:")
	}
}

// kubeadmAdminsGroup is the group of the admin.conf credentials kubeadm
// (1.29+) writes; kubeadm binds it to cluster-admin itself.
const kubeadmAdminsGroup = "kubeadm:cluster-admins"

func subjectString(s rbacv1.Subject, bindingNS string) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		ns := s.Namespace
		if ns == "" {
			ns = bindingNS
		}
		return "ServiceAccount " + ns + "/" + s.Name
	}
	return s.Kind + " " + s.Name
}

func superuser(r *Role) bool {
	return slices.ContainsFunc(r.Rules, func(rule rbacv1.PolicyRule) bool {
		return slices.Contains(rule.Verbs, "*") && slices.Contains(rule.APIGroups, "*") && slices.Contains(rule.Resources, "*")
	})
}

func bindingRef(b *Binding) string {
	if b.Namespace != "" {
		return b.Kind + " " + b.Namespace + "/" + b.Name
	}
	return b.Kind + " " + b.Name
}

func clusterAdmin(m *Model, add func(snapshot.Object, finding.Severity, string, string, string)) {
	for _, b := range m.Bindings {
		if b.Default {
			continue
		}
		admin := b.RoleRef.Kind == "ClusterRole" && b.RoleRef.Name == "cluster-admin"
		if r := m.RoleOf(b); !admin && (r == nil || !superuser(r)) {
			continue
		}
		for _, s := range b.Subjects {
			if isSystemSubject(s) {
				continue
			}
			scope := "the whole cluster"
			if b.Kind == "RoleBinding" {
				scope = "namespace " + b.Namespace
			}
			add(b.Object, finding.Critical, ClusterAdminCheck,
				fmt.Sprintf("%s makes %s superuser of %s through %s %s", bindingRef(b), subjectString(s, b.Namespace), scope, b.RoleRef.Kind, b.RoleRef.Name),
				"Bind a role with only the permissions this subject needs.")
		}
	}
}

var escalationRequests = []Attributes{
	{Verb: "escalate", Group: rbacGroup, Resource: "clusterroles"},
	{Verb: "escalate", Group: rbacGroup, Resource: "roles"},
	{Verb: "bind", Group: rbacGroup, Resource: "clusterroles"},
	{Verb: "bind", Group: rbacGroup, Resource: "roles"},
	{Verb: "impersonate", Resource: "users"},
	{Verb: "impersonate", Resource: "groups"},
	{Verb: "impersonate", Resource: "serviceaccounts"},
	{Verb: "impersonate", Group: "authentication.k8s.io", Resource: "userextras", Subresource: "scopes"},
}

func escalation(m *Model, add func(snapshot.Object, finding.Severity, string, string, string)) {
	for _, r := range m.roles() {
		var got []string
		for _, a := range escalationRequests {
			if slices.ContainsFunc(r.Own, func(rule rbacv1.PolicyRule) bool { return RuleAllows(rule, a) }) {
				k := a.Verb + " " + a.Resource
				if !slices.Contains(got, k) {
					got = append(got, k)
				}
			}
		}
		if len(got) > 0 {
			add(r.Object, finding.High, EscalationCheck,
				fmt.Sprintf("%s grants %s", r.ref(), strings.Join(got, ", ")),
				"Remove escalate, bind and impersonate unless this role belongs to a controller that manages RBAC.")
		}
	}
}

func secretsClusterWide(m *Model, add func(snapshot.Object, finding.Severity, string, string, string)) {
	for _, b := range m.Bindings {
		if b.Default || b.Kind != "ClusterRoleBinding" || b.RoleRef.Name == "cluster-admin" {
			continue
		}
		r := m.RoleOf(b)
		if r == nil || superuser(r) {
			continue
		}
		var verbs []string
		for _, v := range []string{"get", "list", "watch"} {
			a := Attributes{Verb: v, Resource: "secrets", Name: ""}
			if slices.ContainsFunc(r.Rules, func(rule rbacv1.PolicyRule) bool { return RuleAllows(rule, a) }) {
				verbs = append(verbs, v)
			}
		}
		if len(verbs) == 0 {
			continue
		}
		for _, s := range b.Subjects {
			if isSystemSubject(s) {
				continue
			}
			add(b.Object, finding.High, SecretsCheck,
				fmt.Sprintf("%s lets %s %s Secrets in every namespace through ClusterRole %s", bindingRef(b), subjectString(s, ""), strings.Join(verbs, "/"), r.Name),
				"Grant Secret access with RoleBindings in the namespaces that need it, limited by resourceNames where possible.")
		}
	}
}

func execAttach(m *Model, add func(snapshot.Object, finding.Severity, string, string, string)) {
	for _, r := range m.roles() {
		var got []string
		for _, sub := range []string{"exec", "attach"} {
			for _, v := range []string{"create", "get"} {
				a := Attributes{Verb: v, Resource: "pods", Subresource: sub, Name: "x"}
				if slices.ContainsFunc(r.Own, func(rule rbacv1.PolicyRule) bool { return RuleAllows(rule, a) }) {
					got = append(got, "pods/"+sub)
					break
				}
			}
		}
		if len(got) > 0 {
			add(r.Object, finding.Medium, ExecAttachCheck,
				fmt.Sprintf("%s allows %s", r.ref(), strings.Join(got, " and ")),
				"Grant pods/exec and pods/attach only to break-glass roles.")
		}
	}
}

func anonymous(m *Model, add func(snapshot.Object, finding.Severity, string, string, string)) {
	for _, b := range m.Bindings {
		if b.Default {
			continue
		}
		for _, s := range b.Subjects {
			if (s.Kind == rbacv1.UserKind && s.Name == "system:anonymous") || (s.Kind == rbacv1.GroupKind && s.Name == "system:unauthenticated") {
				add(b.Object, finding.Critical, AnonymousCheck,
					fmt.Sprintf("%s grants %s %s to %s, that is to anyone who can reach the API server", bindingRef(b), b.RoleRef.Kind, b.RoleRef.Name, subjectString(s, b.Namespace)),
					"Bind authenticated users, groups or service accounts instead.")
			}
		}
	}
}

func defaultSA(m *Model, add func(snapshot.Object, finding.Severity, string, string, string)) {
	for _, b := range m.Bindings {
		if b.Default {
			continue
		}
		for _, s := range b.Subjects {
			if s.Kind == rbacv1.ServiceAccountKind && s.Name == "default" {
				add(b.Object, finding.Medium, DefaultSACheck,
					fmt.Sprintf("%s grants %s %s to %s, which every pod without a serviceAccountName runs as", bindingRef(b), b.RoleRef.Kind, b.RoleRef.Name, subjectString(s, b.Namespace)),
					"Create a dedicated ServiceAccount for the workload and bind that.")
			}
		}
	}
}
