package rbac

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func readFixture(t *testing.T, paths ...string) *snapshot.Snapshot {
	t.Helper()
	s, err := manifest.Read(context.Background(), paths, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Invalid) > 0 {
		t.Fatalf("fixture has invalid documents: %+v", s.Invalid)
	}
	return s
}

// TestChecksFixture runs every check over the fixture whose object names say
// pass or fail: every failing object must have a finding, no passing one may.
func TestChecksFixture(t *testing.T) {
	s := readFixture(t, "testdata/rbac.yaml")
	rep := finding.Evaluate(context.Background(), s, Checks())
	byName := map[string][]string{}
	for _, f := range rep.Findings {
		byName[f.Object.Name] = append(byName[f.Object.Name], f.Check)
	}
	want := map[string][]string{
		"fail-wildcard":                    {WildcardCheck},
		"fail-escalate":                    {EscalationCheck},
		"fail-exec":                        {ExecAttachCheck},
		"fail-secrets-through-aggregation": {SecretsCheck},
		"fail-cluster-admin":               {ClusterAdminCheck},
		"fail-anonymous":                   {AnonymousCheck},
		"fail-default-sa":                  {DefaultSACheck},
	}
	for k := range byName {
		slices.Sort(byName[k])
		byName[k] = slices.Compact(byName[k])
	}
	if d := cmp.Diff(want, byName); d != "" {
		t.Errorf("findings by object (-want +got):\n%s", d)
	}
	for _, c := range Checks() {
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep.Findings); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "rbac.findings.golden", buf.Bytes())
}

func TestRuleAllows(t *testing.T) {
	rule := func(verbs, groups, resources, names []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
	}
	l := func(s ...string) []string { return s }
	tests := []struct {
		name string
		rule rbacv1.PolicyRule
		a    Attributes
		want bool
	}{
		{"exact", rule(l("get"), l(""), l("secrets"), nil), Attributes{Verb: "get", Resource: "secrets"}, true},
		{"other verb", rule(l("get"), l(""), l("secrets"), nil), Attributes{Verb: "list", Resource: "secrets"}, false},
		{"other group", rule(l("get"), l("apps"), l("secrets"), nil), Attributes{Verb: "get", Resource: "secrets"}, false},
		{"star verb", rule(l("*"), l(""), l("secrets"), nil), Attributes{Verb: "delete", Resource: "secrets"}, true},
		{"star resource covers subresources", rule(l("create"), l(""), l("*"), nil), Attributes{Verb: "create", Resource: "pods", Subresource: "exec"}, true},
		{"resource does not cover subresource", rule(l("create"), l(""), l("pods"), nil), Attributes{Verb: "create", Resource: "pods", Subresource: "exec"}, false},
		{"star slash subresource", rule(l("create"), l(""), l("*/exec"), nil), Attributes{Verb: "create", Resource: "pods", Subresource: "exec"}, true},
		{"resourceNames match", rule(l("get"), l(""), l("secrets"), l("a")), Attributes{Verb: "get", Resource: "secrets", Name: "a"}, true},
		{"resourceNames other", rule(l("get"), l(""), l("secrets"), l("a")), Attributes{Verb: "get", Resource: "secrets", Name: "b"}, false},
		{"resourceNames never match list", rule(l("list"), l(""), l("secrets"), l("a")), Attributes{Verb: "list", Resource: "secrets"}, false},
		{"non-resource prefix", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/healthz*")}, Attributes{Verb: "get", Path: "/healthz/etcd"}, true},
		{"non-resource miss", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/healthz")}, Attributes{Verb: "get", Path: "/metrics"}, false},
		{"resource rule never matches a path", rule(l("*"), l("*"), l("*"), nil), Attributes{Verb: "get", Path: "/metrics"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RuleAllows(tt.rule, tt.a); got != tt.want {
				t.Errorf("RuleAllows(%+v, %s) = %v, want %v", tt.rule, tt.a, got, tt.want)
			}
		})
	}
}

func TestWhoCanFixture(t *testing.T) {
	m := NewModel(readFixture(t, "testdata/rbac.yaml"))
	if got := len(m.ClusterRoles["aggregated-reader"].Rules); got != 1 {
		t.Fatalf("aggregated-reader has %d effective rules, want 1 (aggregated from secret-reader-part)", got)
	}
	var lines []string
	for _, a := range []Attributes{
		{Verb: "list", Resource: "secrets", Namespace: "team"},
		{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "team", Name: "web"},
		{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "other", Name: "web"},
		{Verb: "get", Resource: "configmaps", Namespace: "team", Name: "x"},
	} {
		lines = append(lines, a.String()+":")
		for _, g := range m.WhoCan(a) {
			lines = append(lines, fmt.Sprintf("  %s %s %s via %s", g.Kind, g.Namespace, g.Name, strings.Join(g.Via, "; ")))
		}
	}
	golden.Check(t, "whocan.golden", []byte(strings.Join(lines, "\n")+"\n"))

	sa := ServiceAccountUser("team", "default")
	if ok, _ := m.Allows(sa, Attributes{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "team", Name: "web"}); !ok {
		t.Error("team/default may exec in team through fail-default-sa")
	}
	if ok, _ := m.Allows(sa, Attributes{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "other", Name: "web"}); ok {
		t.Error("a RoleBinding in team must not grant in other")
	}
}

func readFixtureObjects(objs []snapshot.Object) *snapshot.Snapshot {
	return &snapshot.Snapshot{Source: snapshot.SourceFiles, Objects: objs}
}
