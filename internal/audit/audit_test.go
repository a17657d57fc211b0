package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/audit/exempt"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// spec builds a Deployment (or another kind) whose every field is hardened
// unless a test overrides it: each field is a YAML flow value or block.
type spec struct {
	kind       string
	meta       string // extra metadata, e.g. "annotations: {...}"
	replicas   string
	pod        string // pod-level fields (flow mappings, one per line)
	podSC      string
	container  string // extra container fields
	ctrSC      string
	resources  string
	image      string
	probes     string
	withPDB    bool
	extraDocs  string
	noReplicas bool
}

func hardened() spec {
	return spec{
		kind:      "Deployment",
		replicas:  "2",
		pod:       "automountServiceAccountToken: false",
		podSC:     "{runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}",
		ctrSC:     "{allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}",
		resources: "{requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}",
		image:     "registry.example/web:1.2.3",
		probes:    "readinessProbe: {httpGet: {path: /ready, port: 8080}}\nlivenessProbe: {httpGet: {path: /live, port: 8080}}",
		withPDB:   true,
	}
}

func indent(s string, n int) string {
	if s == "" {
		return ""
	}
	pad := strings.Repeat(" ", n)
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		b.WriteString(pad + l + "\n")
	}
	return b.String()
}

func (s spec) yaml() string {
	podSpec := indent(s.pod, 0) + "securityContext: " + s.podSC + "\ncontainers:\n- name: app\n  image: " + s.image +
		"\n  securityContext: " + s.ctrSC + "\n  resources: " + s.resources + "\n" + indent(s.probes, 2) + indent(s.container, 2)
	meta := "name: web\nnamespace: shop\n" + s.meta
	var doc string
	switch s.kind {
	case "Pod":
		doc = "apiVersion: v1\nkind: Pod\nmetadata:\n" + indent(meta, 2) + "spec:\n" + indent(podSpec, 2)
	case "CronJob":
		doc = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n" + indent(meta, 2) + "spec:\n  schedule: '@hourly'\n  jobTemplate:\n    spec:\n      template:\n        metadata: {labels: {app: web}}\n        spec:\n" + indent("restartPolicy: OnFailure\n"+podSpec, 10)
	default:
		replicas := "  replicas: " + s.replicas + "\n"
		if s.noReplicas {
			replicas = ""
		}
		doc = "apiVersion: apps/v1\nkind: " + s.kind + "\nmetadata:\n" + indent(meta, 2) + "spec:\n" + replicas +
			"  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n" + indent(podSpec, 6)
	}
	if s.withPDB {
		doc += "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: shop}\nspec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}\n"
	}
	return doc + s.extraDocs
}

func decode(t testing.TB, docs string) *snapshot.Snapshot {
	t.Helper()
	objs, invalid, err := manifest.NewDecoder(manifest.Options{}).Decode(context.Background(), strings.NewReader(docs), "fixture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(invalid) > 0 {
		t.Fatalf("fixture does not parse: %+v\n%s", invalid, docs)
	}
	s := &snapshot.Snapshot{Source: snapshot.SourceFiles, Objects: objs}
	s.Sort()
	return s
}

// run runs one check (all when id is "") and returns "severity: message" lines.
func run(t testing.TB, s *snapshot.Snapshot, id string) []finding.Finding {
	t.Helper()
	var out []finding.Finding
	for _, c := range audit.Checks() {
		if id != "" && c.ID != id {
			continue
		}
		fs, err := c.Run(context.Background(), s)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		out = append(out, fs...)
	}
	finding.Sort(out)
	return out
}

func lines(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Severity.String()+": "+f.Message)
	}
	return out
}

func TestHardenedPasses(t *testing.T) {
	for _, kind := range []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "CronJob", "Job"} {
		t.Run(kind, func(t *testing.T) {
			s := hardened()
			s.kind = kind
			if got := lines(run(t, decode(t, s.yaml()), "")); len(got) > 0 {
				t.Errorf("hardened %s has findings:\n%s", kind, strings.Join(got, "\n"))
			}
		})
	}
}

func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  string
		modify func(*spec)
		// want are "severity: substring" of each expected finding, in report order.
		want []string
	}{
		// read-only root filesystem
		{"rofs fail", audit.ReadOnlyRootFSCheck, func(s *spec) {
			s.ctrSC = "{allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, capabilities: {drop: [ALL]}}"
		}, []string{`medium: container "app": readOnlyRootFilesystem is false`}},
		{"rofs unset", audit.ReadOnlyRootFSCheck, func(s *spec) {
			s.ctrSC = "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}"
		}, []string{`medium: container "app": readOnlyRootFilesystem unset (effective false`}},
		{"rofs init and ephemeral", audit.ReadOnlyRootFSCheck, func(s *spec) {
			s.kind = "Pod"
			s.pod += "\ninitContainers: [{name: init, image: 'busybox:1', securityContext: {readOnlyRootFilesystem: true}}, {name: setup, image: 'busybox:1'}]\nephemeralContainers: [{name: debug, image: 'busybox:1'}]"
		}, []string{`medium: ephemeral container "debug": readOnlyRootFilesystem unset`, `medium: init container "setup": readOnlyRootFilesystem unset`}},

		// automount
		{"automount true", audit.AutomountTokenCheck, func(s *spec) { s.pod = "automountServiceAccountToken: true" },
			[]string{"medium: automountServiceAccountToken: true at spec.template.spec"}},
		{"automount unset, no SA", audit.AutomountTokenCheck, func(s *spec) { s.pod = "" },
			[]string{`medium: automountServiceAccountToken unset on the pod, and ServiceAccount "default" is not in the input`}},
		{"automount unset, SA opts out", audit.AutomountTokenCheck, func(s *spec) {
			s.pod = "serviceAccountName: web"
			s.extraDocs = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\nautomountServiceAccountToken: false\n"
		}, nil},
		{"automount unset, SA unset", audit.AutomountTokenCheck, func(s *spec) {
			s.pod = "serviceAccountName: web"
			s.extraDocs = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\n"
		}, []string{`medium: automountServiceAccountToken unset on the pod and on ServiceAccount "web"`, "low: automountServiceAccountToken unset (effective true"}},

		// privilege escalation
		{"ape true", audit.PrivilegeEscalationCheck, func(s *spec) {
			s.ctrSC = "{allowPrivilegeEscalation: true, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}"
		}, []string{`high: container "app": allowPrivilegeEscalation: true`}},
		{"ape unset", audit.PrivilegeEscalationCheck, func(s *spec) {
			s.ctrSC = "{readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}"
		}, []string{`medium: container "app": allowPrivilegeEscalation unset (effective true`}},
		{"ape false but SYS_ADMIN", audit.PrivilegeEscalationCheck, func(s *spec) {
			s.ctrSC = "{allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL], add: [SYS_ADMIN]}}"
		}, []string{`high: container "app": adds CAP_SYS_ADMIN, so privilege escalation is always allowed`}},

		// privileged
		{"privileged", audit.PrivilegedCheck, func(s *spec) {
			s.ctrSC = "{privileged: true, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}"
		}, []string{`critical: container "app": privileged: true`}},
		{"privileged false", audit.PrivilegedCheck, func(s *spec) {
			s.ctrSC = "{privileged: false, allowPrivilegeEscalation: false}"
		}, nil},

		// capabilities
		{"caps unset", audit.CapabilitiesCheck, func(s *spec) { s.ctrSC = "{allowPrivilegeEscalation: false}" },
			[]string{`medium: container "app": capabilities.drop unset (effective: the runtime's default capabilities`}},
		{"caps dangerous add", audit.CapabilitiesCheck, func(s *spec) {
			s.ctrSC = "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE, NET_ADMIN, CAP_SYS_PTRACE]}}"
		}, []string{`high: container "app": adds NET_ADMIN, SYS_PTRACE`}},
		{"caps drop some", audit.CapabilitiesCheck, func(s *spec) {
			s.ctrSC = "{allowPrivilegeEscalation: false, capabilities: {drop: [NET_RAW]}}"
		}, []string{`medium: container "app": capabilities.drop does not include ALL`}},

		// run as non-root
		{"root uid", audit.RunAsNonRootCheck, func(s *spec) { s.podSC = "{runAsUser: 0, seccompProfile: {type: RuntimeDefault}}" },
			[]string{`high: container "app": runs as root (runAsUser: 0 at spec.template.spec.securityContext.runAsUser)`}},
		{"non-root unset", audit.RunAsNonRootCheck, func(s *spec) { s.podSC = "{seccompProfile: {type: RuntimeDefault}}" },
			[]string{`medium: container "app": runAsNonRoot and runAsUser unset on container and pod (effective: the image's user`}},
		{"container overrides pod", audit.RunAsNonRootCheck, func(s *spec) {
			s.ctrSC = "{runAsUser: 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}"
		}, []string{`high: container "app": runs as root (runAsUser: 0 at spec.template.spec.containers[0].securityContext.runAsUser)`}},
		{"windows skipped", audit.RunAsNonRootCheck, func(s *spec) { s.podSC = "{}"; s.pod += "\nos: {name: windows}" }, nil},

		// host namespaces, ports, paths, procMount
		{"host namespaces", audit.HostNamespacesCheck, func(s *spec) { s.pod += "\nhostPID: true\nhostNetwork: true\nhostIPC: false" },
			[]string{"high: hostNetwork: true", "high: hostPID: true"}},
		{"host port", audit.HostPortCheck, func(s *spec) { s.container = "ports: [{containerPort: 80}, {containerPort: 443, hostPort: 443}]" },
			[]string{`medium: container "app": hostPort 443 at spec.template.spec.containers[0].ports[1]`}},
		{"host path socket", audit.HostPathCheck, func(s *spec) {
			s.pod += "\nvolumes: [{name: sock, hostPath: {path: /var/run/docker.sock}}, {name: logs, hostPath: {path: /var/log}}, {name: tmp, emptyDir: {}}]"
		}, []string{`critical: volume "sock" mounts the container runtime socket "/var/run/docker.sock"`, `high: volume "logs" mounts host path "/var/log"`}},
		{"host root", audit.HostPathCheck, func(s *spec) { s.pod += "\nvolumes: [{name: root, hostPath: {path: /}}]" },
			[]string{`critical: volume "root" mounts the host's root directory`}},
		{"proc mount", audit.ProcMountCheck, func(s *spec) {
			s.ctrSC = "{procMount: Unmasked, allowPrivilegeEscalation: false}"
		}, []string{`high: container "app": procMount: Unmasked`}},

		// seccomp, AppArmor, SELinux
		{"seccomp unset", audit.SeccompCheck, func(s *spec) { s.podSC = "{runAsNonRoot: true}" },
			[]string{`medium: container "app": seccompProfile unset on container and pod (effective Unconfined`}},
		{"seccomp unconfined container", audit.SeccompCheck, func(s *spec) {
			s.ctrSC = "{seccompProfile: {type: Unconfined}}"
		}, []string{`high: container "app": seccompProfile Unconfined at spec.template.spec.containers[0].securityContext.seccompProfile`}},
		{"apparmor unconfined", audit.AppArmorSELinuxCheck, func(s *spec) {
			s.ctrSC = "{appArmorProfile: {type: Unconfined}, seLinuxOptions: {type: spc_t}}"
		}, []string{`high: container "app": appArmorProfile Unconfined`, `high: container "app": seLinuxOptions.type "spc_t"`}},
		{"apparmor annotation", audit.AppArmorSELinuxCheck, func(s *spec) {
			s.kind = "Pod"
			s.meta = "annotations: {container.apparmor.security.beta.kubernetes.io/app: unconfined}"
		}, []string{`high: container "app": AppArmor annotation unconfined`}},

		// resources
		{"resources unset", audit.ResourcesCheck, func(s *spec) { s.resources = "{}" },
			[]string{`medium: container "app": no CPU request, memory request, memory limit`}},
		{"limits imply requests", audit.ResourcesCheck, func(s *spec) { s.resources = "{limits: {cpu: 1, memory: 1Gi}}" }, nil},
		{"limit range defaults", audit.ResourcesCheck, func(s *spec) {
			s.resources = "{}"
			s.extraDocs = "---\napiVersion: v1\nkind: LimitRange\nmetadata: {name: defaults, namespace: shop}\nspec: {limits: [{type: Container, default: {memory: 256Mi}, defaultRequest: {cpu: 100m, memory: 128Mi}}]}\n"
		}, nil},

		// image
		{"image latest", audit.ImageTagCheck, func(s *spec) { s.image = "registry.example:5000/web:latest\n  imagePullPolicy: IfNotPresent" },
			[]string{`medium: container "app": image "registry.example:5000/web:latest" is tagged latest, and imagePullPolicy IfNotPresent`}},
		{"image untagged", audit.ImageTagCheck, func(s *spec) { s.image = "registry.example:5000/web" },
			[]string{`medium: container "app": image "registry.example:5000/web" has no tag (effective :latest) (imagePullPolicy unset: effective Always)`}},
		{"image digest", audit.ImageTagCheck, func(s *spec) { s.image = "web@sha256:0123456789abcdef" }, nil},

		// probes
		{"no probes", audit.ProbesCheck, func(s *spec) { s.probes = "" },
			[]string{`low: container "app": no readinessProbe or livenessProbe`}},
		{"cron job needs none", audit.ProbesCheck, func(s *spec) { s.kind = "CronJob"; s.probes = "" }, nil},

		// disruption budget
		{"replicas unset", audit.DisruptionBudgetCheck, func(s *spec) { s.noReplicas = true },
			[]string{"low: spec.replicas unset (effective 1)"}},
		{"no pdb", audit.DisruptionBudgetCheck, func(s *spec) { s.withPDB = false; s.replicas = "3" },
			[]string{"medium: 3 replicas and no PodDisruptionBudget in the input selects their pods"}},
		{"pdb of other pods", audit.DisruptionBudgetCheck, func(s *spec) {
			s.withPDB = false
			s.extraDocs = "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: other, namespace: shop}\nspec: {maxUnavailable: 1, selector: {matchLabels: {app: other}}}\n"
		}, []string{"medium: 2 replicas and no PodDisruptionBudget"}},

		// secrets in env
		{"secret env", audit.SecretEnvCheck, func(s *spec) {
			s.container = "env: [{name: DB_PASSWORD, value: hunter2}, {name: API_TOKEN, valueFrom: {secretKeyRef: {name: s, key: k}}}, {name: LOG_LEVEL, value: debug}, {name: DB_PASSWORD_FILE, value: /run/secrets/db}, {name: PASSWORD_LENGTH, value: '12'}, {name: ALLOW_NO_PASSWORD, value: 'yes'}, {name: API_TOKEN, value: 'abc123'}]"
		}, []string{`high: container "app": env "API_TOKEN" has a literal value (not shown) at spec.template.spec.containers[0].env[6]`,
			`high: container "app": env "DB_PASSWORD" has a literal value (not shown) at spec.template.spec.containers[0].env[0]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := hardened()
			tc.modify(&s)
			fs := run(t, decode(t, s.yaml()), tc.check)
			got := lines(fs)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d findings, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("finding %d = %q, want it to start with %q", i, got[i], w)
				}
				if strings.Contains(got[i], "hunter2") || strings.Contains(got[i], "abc123") {
					t.Errorf("finding shows a secret value: %q", got[i])
				}
			}
			for _, f := range fs {
				if f.Location == nil || f.Location.Path != "fixture.yaml" || f.Location.Line == 0 || f.Object == nil {
					t.Errorf("finding without file:line and object: %+v", f)
				}
			}
			if len(tc.want) == 0 {
				return
			}
			// Exempted: the same fixture with the workload annotated.
			ann := "shipshape.dev/exempt: " + tc.check + ", shipshape.dev/exempt-reason: accepted risk"
			if strings.Contains(s.meta, "annotations: {") {
				s.meta = strings.Replace(s.meta, "annotations: {", "annotations: {"+ann+", ", 1)
			} else {
				s.meta += "annotations: {" + ann + "}"
			}
			snap := decode(t, s.yaml())
			kept, exempted := (*exempt.Policy)(nil).Split(run(t, snap, tc.check), snap)
			onWorkload := 0
			for _, f := range kept {
				if f.Object.Kind == s.kind {
					onWorkload++
				}
			}
			if onWorkload != 0 || len(exempted) == 0 {
				t.Errorf("annotated fixture: %d findings kept on the %s, %d exempted", onWorkload, s.kind, len(exempted))
			}
		})
	}
}

// TestExemptedByAnnotation: every check's finding can be exempted by the
// object's annotation, and only with a reason.
func TestExemptedByAnnotation(t *testing.T) {
	s := hardened()
	s.ctrSC = "{privileged: true}"
	s.meta = "annotations: {shipshape.dev/exempt: 'audit/privileged, audit/capabilities', shipshape.dev/exempt-reason: 'CNI agent needs the host network stack'}"
	snap := decode(t, s.yaml())
	fs := run(t, snap, "")
	kept, exempted := (*exempt.Policy)(nil).Split(fs, snap)
	var ex []string
	for _, f := range exempted {
		ex = append(ex, f.Check+": "+f.Exemption)
	}
	want := []string{
		"audit/privileged: CNI agent needs the host network stack (annotation shipshape.dev/exempt)",
		"audit/capabilities: CNI agent needs the host network stack (annotation shipshape.dev/exempt)",
	}
	if diff := cmp.Diff(want, ex); diff != "" {
		t.Errorf("exempted (-want +got)\n%s", diff)
	}
	for _, f := range kept {
		if f.Check == audit.PrivilegedCheck || f.Check == audit.CapabilitiesCheck {
			t.Errorf("kept an exempted finding: %v", f)
		}
	}
	if len(kept) == 0 {
		t.Error("the annotation exempted checks it does not name")
	}
}

func TestNamespaceHygiene(t *testing.T) {
	ns := "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
	for _, tc := range []struct {
		name  string
		docs  string
		check string
		want  []string
	}{
		{"no namespace object: not judged", hardened().yaml(), audit.NamespaceQuotaCheck, nil},
		{"quota and limit range missing", hardened().yaml() + ns, audit.NamespaceQuotaCheck,
			[]string{`medium: namespace "shop" has no ResourceQuota and no LimitRange`}},
		{"quota present", hardened().yaml() + ns +
			"---\napiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: shop}\nspec: {hard: {requests.cpu: '10'}}\n" +
			"---\napiVersion: v1\nkind: LimitRange\nmetadata: {name: l, namespace: shop}\nspec: {limits: [{type: Container, default: {memory: 1Gi}}]}\n",
			audit.NamespaceQuotaCheck, nil},
		{"network policy missing", hardened().yaml() + ns, audit.NamespaceNetworkPolicyCheck,
			[]string{`medium: namespace "shop" has no NetworkPolicy`}},
		{"network policy present", hardened().yaml() + ns +
			"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}}\n",
			audit.NamespaceNetworkPolicyCheck, nil},
		{"priority: nobody has one", hardened().yaml() + ns, audit.NamespacePriorityCheck, nil},
		{"priority: others have one", hardened().yaml() + ns +
			"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n" +
			"---\napiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: prod}\nspec: {priorityClassName: high, containers: [{name: a, image: 'a:1'}]}\n",
			audit.NamespacePriorityCheck, []string{`low: namespace "shop": 1 workload(s) without priorityClassName (effective priority 0) while 1 workload(s) elsewhere have one`}},
		{"priority: global default", hardened().yaml() + ns +
			"---\napiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: prod}\nspec: {priorityClassName: high, containers: [{name: a, image: 'a:1'}]}\n" +
			"---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: normal}\nvalue: 1000\nglobalDefault: true\n",
			audit.NamespacePriorityCheck, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := lines(run(t, decode(t, tc.docs), tc.check))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d findings, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("finding %d = %q, want prefix %q", i, got[i], w)
				}
			}
		})
	}
}

// TestOwnedObjectsReportedOnce: on a live cluster the ReplicaSet and Pods a
// Deployment owns are not reported again.
func TestOwnedObjectsReportedOnce(t *testing.T) {
	s := hardened()
	s.ctrSC = "{privileged: true}"
	owned := strings.Replace(strings.Replace(s.yaml(), "kind: Deployment", "kind: ReplicaSet", 1), "name: web\n",
		"name: web-abc\n  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true}]\n", 1)
	got := run(t, decode(t, s.yaml()+"---\n"+owned), audit.PrivilegedCheck)
	if len(got) != 1 || got[0].Object.Kind != "Deployment" {
		t.Errorf("findings = %v, want one on the Deployment", lines(got))
	}
}

func TestChecksDocumentStandards(t *testing.T) {
	std := audit.Standards()
	for _, c := range audit.Checks() {
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
		s, ok := std[c.ID]
		if !ok || s.NSA == "" {
			t.Errorf("%s: no NSA/CISA mapping", c.ID)
		}
		if !strings.Contains(c.Doc, "NSA/CISA: "+s.NSA) {
			t.Errorf("%s: doc does not state its mapping", c.ID)
		}
		if !strings.Contains(strings.ToLower(c.Doc), "unset") && !strings.Contains(c.Doc, "judged only when") {
			t.Errorf("%s: doc does not say how an unset field is judged", c.ID)
		}
	}
	if got := fmt.Sprint(len(audit.Checks())); got != "20" {
		t.Errorf("%s checks, want 20", got)
	}
}
