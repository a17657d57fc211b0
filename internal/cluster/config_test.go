package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: one
  cluster:
    server: https://one.example:6443
- name: two
  cluster:
    server: https://two.example:6443
users:
- name: u
  user:
    token: t
contexts:
- name: with-ns
  context: {cluster: one, user: u, namespace: team-a}
- name: without-ns
  context: {cluster: two, user: u}
current-context: with-ns
`

// isolate points every kubeconfig source at dir, so the developer's own
// configuration and an in-cluster environment cannot leak in.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	return dir
}

func writeKubeconfig(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "config")
	if err := os.WriteFile(p, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadResolvesNamespaceAndContext(t *testing.T) {
	type result struct {
		Namespace     string
		AllNamespaces bool
		Context       string
		Host          string
	}
	tests := []struct {
		name  string
		flags ConfigFlags
		env   bool // pass the file via KUBECONFIG instead of --kubeconfig
		want  result
	}{
		{
			name: "context namespace",
			want: result{Namespace: "team-a", Context: "with-ns", Host: "https://one.example:6443"},
		},
		{
			name:  "flag overrides context namespace",
			flags: ConfigFlags{Namespace: "team-b"},
			want:  result{Namespace: "team-b", Context: "with-ns", Host: "https://one.example:6443"},
		},
		{
			name:  "context without namespace means default",
			flags: ConfigFlags{Context: "without-ns"},
			want:  result{Namespace: "default", Context: "without-ns", Host: "https://two.example:6443"},
		},
		{
			name:  "all namespaces",
			flags: ConfigFlags{AllNamespaces: true, Namespace: "ignored"},
			want:  result{AllNamespaces: true, Context: "with-ns", Host: "https://one.example:6443"},
		},
		{
			name: "KUBECONFIG",
			env:  true,
			want: result{Namespace: "team-a", Context: "with-ns", Host: "https://one.example:6443"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			p := writeKubeconfig(t, dir)
			flags := tt.flags
			if tt.env {
				t.Setenv("KUBECONFIG", p)
			} else {
				flags.Kubeconfig = p
			}
			tg, err := flags.Load()
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := result{Namespace: tg.Namespace, AllNamespaces: tg.AllNamespaces, Context: tg.Context, Host: tg.Host}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("target (-want +got):\n%s", diff)
			}
			if tg.Config.QPS != defaultQPS || tg.Config.Burst != defaultBurst {
				t.Errorf("QPS/Burst = %v/%v, want %v/%v", tg.Config.QPS, tg.Config.Burst, defaultQPS, defaultBurst)
			}
			if !strings.HasPrefix(tg.Config.UserAgent, "shipshape/") {
				t.Errorf("UserAgent = %q, want shipshape/...", tg.Config.UserAgent)
			}
			if tg.Config.BearerToken != "t" {
				t.Errorf("BearerToken = %q, want the kubeconfig user's", tg.Config.BearerToken)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("nothing configured", func(t *testing.T) {
		isolate(t)
		_, err := ConfigFlags{}.Load()
		if err == nil || err.Error() != "no kubeconfig found: set --kubeconfig or KUBECONFIG" {
			t.Errorf("err = %v, want 'no kubeconfig found: ...'", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		dir := isolate(t)
		p := filepath.Join(dir, "nope")
		_, err := ConfigFlags{Kubeconfig: p}.Load()
		if err == nil || !strings.HasPrefix(err.Error(), `load kubeconfig "`+p+`": `) {
			t.Errorf("err = %v, want 'load kubeconfig %q: ...'", err, p)
		}
	})
	t.Run("unknown context", func(t *testing.T) {
		dir := isolate(t)
		p := writeKubeconfig(t, dir)
		_, err := ConfigFlags{Kubeconfig: p, Context: "nope"}.Load()
		if err == nil || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("err = %v, want an error naming the context", err)
		}
	})
}
