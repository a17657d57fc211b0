package manifest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// lines joins its arguments with newlines, so that a test's line numbers
// can be read off its source.
func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

const (
	pod     = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n"
	service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		objects []obj
		invalid []bad
	}{
		{
			name:    "empty input",
			in:      "",
			objects: nil,
		},
		{
			name:    "only comments and markers",
			in:      lines("# nothing", "---", "# still nothing", "---", "", "..."),
			objects: nil,
		},
		{
			name: "document index counts empty documents",
			in: lines(
				"---",
				"---",
				"# empty",
				"---",
				"apiVersion: v1",
				"kind: ConfigMap",
				"metadata: {name: third}",
			),
			objects: []obj{{"in", 5, 2, -1, "ConfigMap", "third"}},
		},
		{
			name:    "null document",
			in:      lines("--- ~", "---", "null"),
			objects: nil,
		},
		{
			name:    "line of the first key, after comments",
			in:      lines("# header", "", "  # indented comment", "kind: ConfigMap", "apiVersion: v1"),
			objects: []obj{{"in", 4, 0, -1, "ConfigMap", ""}},
		},
		{
			name:    "content on the marker line",
			in:      lines("--- {apiVersion: v1, kind: ConfigMap, metadata: {name: flow}}"),
			objects: []obj{{"in", 1, 0, -1, "ConfigMap", "flow"}},
		},
		{
			name:    "byte order mark and CRLF",
			in:      "\ufeffapiVersion: v1\r\nkind: ConfigMap\r\n---\r\napiVersion: v1\r\nkind: Secret\r\n",
			objects: []obj{{"in", 1, 0, -1, "ConfigMap", ""}, {"in", 4, 1, -1, "Secret", ""}},
		},
		{
			name:    "directive",
			in:      lines("%YAML 1.2", "---", "apiVersion: v1", "kind: ConfigMap"),
			objects: []obj{{"in", 3, 0, -1, "ConfigMap", ""}},
		},
		{
			name:    "JSON with tabs",
			in:      "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"ConfigMap\",\n\t\"data\": {\"a\": \"}{\"}\n}\n",
			objects: []obj{{"in", 2, 0, -1, "ConfigMap", ""}},
		},
		{
			name: "JSON objects on one line",
			in:   `{"apiVersion":"v1","kind":"ConfigMap"}{"apiVersion":"v1","kind":"Secret"}` + "\n",
			objects: []obj{
				{"in", 1, 0, -1, "ConfigMap", ""},
				{"in", 1, 1, -1, "Secret", ""},
			},
		},
		{
			name:    "flow YAML with brackets in quotes is one document",
			in:      lines(`{apiVersion: v1, kind: ConfigMap, data: {a: '}{', b: "][", c: 'it''s {'}}`),
			objects: []obj{{"in", 1, 0, -1, "ConfigMap", ""}},
		},
		{
			name: "List with items",
			in: lines(
				"apiVersion: v1",
				"kind: List",
				"metadata: {}",
				"items:",
				"- apiVersion: v1",
				"  kind: ConfigMap",
				"- # comment",
				"  apiVersion: v1",
				"  kind: Secret",
			),
			objects: []obj{
				{"in", 5, 0, 0, "ConfigMap", ""},
				{"in", 8, 0, 1, "Secret", ""},
			},
		},
		{
			name:    "empty List",
			in:      lines("apiVersion: v1", "kind: List", "items: []"),
			objects: nil,
		},
		{
			name: "List item problems",
			in: lines(
				"apiVersion: v1",
				"kind: List",
				"items:",
				"- just a string",
				"- kind: ConfigMap",
				"- apiVersion: v1",
				"  kind: ConfigMap",
			),
			objects: []obj{{"in", 6, 0, 2, "ConfigMap", ""}},
			invalid: []bad{
				{"in", 4, 0, 0, "item is a string, not an object with apiVersion and kind"},
				{"in", 5, 0, 1, "missing apiVersion"},
			},
		},
		{
			name:    "List items not a list",
			in:      lines("apiVersion: v1", "kind: List", "items: {a: b}"),
			invalid: []bad{{"in", 3, 0, -1, "List items is not a list"}},
		},
		{
			name: "syntax error line, other documents read",
			in: lines(
				service,
				"---",
				"apiVersion: v1",
				"kind: ConfigMap",
				"metadata:",
				"  name: x",
				" labels: {}",
				"---",
				pod,
			),
			objects: []obj{{"in", 1, 0, -1, "Service", "s"}, {"in", 13, 2, -1, "Pod", "p"}},
			invalid: []bad{{"in", 11, 1, -1, "invalid YAML: did not find expected key"}},
		},
		{
			name:    "syntax error on the first line",
			in:      lines("apiVersion: v1: x", "kind: Pod"),
			invalid: []bad{{"in", 1, 0, -1, "invalid YAML: mapping values are not allowed in this context"}},
		},
		{
			name:    "unterminated quote reported where it starts",
			in:      lines("apiVersion: v1", "kind: ConfigMap", "data:", "  a: 'open", "  b: c"),
			invalid: []bad{{"in", 4, 0, -1, "invalid YAML: found unexpected end of stream"}},
		},
		{
			name:    "tab indentation",
			in:      lines("apiVersion: v1", "kind: ConfigMap", "data:", "\ta: b"),
			invalid: []bad{{"in", 4, 0, -1, "invalid YAML: found character that cannot start any token"}},
		},
		{
			name:    "unknown anchor",
			in:      lines("apiVersion: v1", "kind: ConfigMap", "data:", "  a: *nope"),
			invalid: []bad{{"in", 4, 0, -1, "invalid YAML: unknown anchor 'nope' referenced"}},
		},
		{
			name:    "duplicate key at the top",
			in:      lines("apiVersion: v1", "kind: Secret", "type: a", "data: {}", "type: b"),
			invalid: []bad{{"in", 5, 0, -1, `duplicate key "type" (first defined at line 3)`}},
		},
		{
			name: "duplicate keys nested, each reported",
			in: lines(
				"apiVersion: apps/v1",
				"kind: Deployment",
				"spec:",
				"  template:",
				"    spec:",
				"      containers:",
				"      - name: a",
				"        image: x",
				"        name: b",
				"        image: y",
			),
			invalid: []bad{
				{"in", 9, 0, -1, `spec.template.spec.containers[0]: duplicate key "name" (first defined at line 7)`},
				{"in", 10, 0, -1, `spec.template.spec.containers[0]: duplicate key "image" (first defined at line 8)`},
			},
		},
		{
			name:    "duplicate key in a List",
			in:      lines("apiVersion: v1", "kind: List", "items: []", "items: []"),
			invalid: []bad{{"in", 4, 0, -1, `duplicate key "items" (first defined at line 3)`}},
		},
		{
			name: "Service nodePort from an unset variable",
			in: lines(
				"apiVersion: v1",
				"kind: Service",
				"metadata: {name: s}",
				"spec:",
				"  ports:",
				"  - port: 80",
				"    targetPort: ${PORT}",
				"    nodePort: ${PORT}",
			),
			invalid: []bad{{"in", 8, 0, -1, `spec.ports[0].nodePort: want integer (int32), got string "${PORT}"`}},
		},
		{
			name: "Pod with a quoted lun and more",
			in: lines(
				pod+"spec:",
				"  hostNetwork: \"true\"",
				"  containers:",
				"  - name: 123",
				"    image: nginx",
				"    ports:",
				"    - containerPort: 1.5",
				"    - containerPort: 3000000000",
				"    - containerPort: 8080.0",
				"    resources:",
				"      limits: {cpu: 1GB, memory: 1Gi}",
				"  volumes:",
				"  - name: fc",
				"    fc:",
				"      lun: \"0\"",
				"      targetWWNs: [a, b]",
				"      readOnly: yes",
			),
			invalid: []bad{
				{"in", 6, 0, -1, `spec.hostNetwork: want boolean (true or false), got string "true"`},
				{"in", 8, 0, -1, `spec.containers[0].name: want string, got integer 123 (quote it: "123")`},
				{"in", 11, 0, -1, `spec.containers[0].ports[0].containerPort: want integer (int32), got number 1.5`},
				{"in", 12, 0, -1, `spec.containers[0].ports[1].containerPort: want integer (int32), got integer 3000000000 (out of range)`},
				{"in", 15, 0, -1, `spec.containers[0].resources.limits.cpu: want a quantity such as 100m or 1Gi, got string "1GB"`},
				{"in", 19, 0, -1, `spec.volumes[0].fc.lun: want integer (int32), got string "0"`},
			},
		},
		{
			name: "labels and annotations must be strings",
			in: lines(
				"apiVersion: v1",
				"kind: ConfigMap",
				"metadata:",
				"  name: c",
				"  labels:",
				"    enabled: true",
				"    version: 1.0",
				"  annotations:",
				"    replicas: 3",
				"data:",
				"  port: 8080",
			),
			invalid: []bad{
				{"in", 6, 0, -1, `metadata.labels.enabled: want string, got boolean true (quote it: "true")`},
				{"in", 7, 0, -1, `metadata.labels.version: want string, got number 1.0 (quote it: "1.0")`},
				{"in", 9, 0, -1, `metadata.annotations.replicas: want string, got integer 3 (quote it: "3")`},
				{"in", 11, 0, -1, `data.port: want string, got integer 8080 (quote it: "8080")`},
			},
		},
		{
			name: "YAML 1.1 booleans, as kubectl reads them",
			in: lines(
				"apiVersion: v1",
				"kind: Pod",
				"spec:",
				"  hostNetwork: yes",
				"  containers:",
				"  - name: a",
				"    env:",
				"    - {name: A, value: on}",
				"    - {name: B, value: 'on'}",
				"    - {name: C, value: online}",
			),
			invalid: []bad{
				{"in", 8, 0, -1, `spec.containers[0].env[0].value: want string, got on, which kubectl reads as a boolean (quote it: "on")`},
			},
		},
		{
			name: "custom types: times, int-or-string, bytes",
			in: lines(
				"apiVersion: v1",
				"kind: Secret",
				"metadata:",
				"  name: s",
				"  creationTimestamp: null",
				"  deletionTimestamp: 2024-01-01",
				"data:",
				"  good: aGVsbG8=",
				"  bad: not base64!",
				"---",
				"apiVersion: autoscaling/v2",
				"kind: HorizontalPodAutoscaler",
				"metadata: {name: h, creationTimestamp: 2024-01-01T10:00:00Z}",
				"status:",
				"  lastScaleTime: 12",
				"---",
				"apiVersion: apps/v1",
				"kind: Deployment",
				"spec:",
				"  strategy:",
				"    rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}",
				"  template:",
				"    spec:",
				"      containers:",
				"      - livenessProbe:",
				"          httpGet: {port: true}",
			),
			invalid: []bad{
				{"in", 6, 0, -1, `metadata.deletionTimestamp: want RFC 3339 timestamp string, got string "2024-01-01"`},
				{"in", 9, 0, -1, `data.bad: want base64 data, got string (value not shown: Secret data): illegal base64 data at input byte 3`},
				{"in", 15, 1, -1, `status.lastScaleTime: want RFC 3339 timestamp string, got integer 12`},
				{"in", 26, 2, -1, `spec.template.spec.containers[0].livenessProbe.httpGet.port: want integer or string, got boolean true`},
			},
		},
		{
			name: "older version checked as a known one",
			in: lines(
				"apiVersion: autoscaling/v2beta2",
				"kind: HorizontalPodAutoscaler",
				"spec:",
				"  maxReplicas: ten",
			),
			invalid: []bad{{"in", 4, 0, -1, `spec.maxReplicas: want integer (int32), got string "ten" ` +
				`(autoscaling/v2beta2 is not a known version; checked as autoscaling/v2 HorizontalPodAutoscaler)`}},
		},
		{
			name: "unknown fields and unknown kinds are not checked",
			in: lines(
				"apiVersion: apps/v1",
				"kind: Deployment",
				"spec:",
				"  replicas: 1.0",
				"  notAField: {replicas: many}",
				"---",
				"apiVersion: example.com/v1",
				"kind: Widget",
				"spec:",
				"  replicas: many",
				"  command: ['{{x}}']",
			),
			objects: []obj{{"in", 1, 0, -1, "Deployment", ""}, {"in", 7, 1, -1, "Widget", ""}},
		},
		{
			name: "template placeholder parsed as a flow mapping",
			in: lines(
				"apiVersion: apps/v1",
				"kind: Deployment",
				"spec:",
				"  replicas: {{replicas}}",
				"  template:",
				"    spec:",
				"      containers:",
				"      - name: a",
				"        args:",
				"        - {{ backup_flags }}",
			),
			invalid: []bad{
				{"in", 4, 0, -1, "spec.replicas: template placeholder {{replicas}} where a value belongs; render the template first"},
				{"in", 10, 0, -1, "spec.template.spec.containers[0].args[0]: template placeholder {{backup_flags}} where a value belongs; render the template first"},
			},
		},
		{
			name: "template placeholders in names, labels and typed strings",
			in: lines(
				"apiVersion: v1",
				"kind: Pod",
				"metadata:",
				"  name: app-{{uid}}",
				"  namespace: ${NAMESPACE}",
				"  labels:",
				"    ${KEY}: x",
				"    tier: \"{{tier}}\"",
				"  annotations:",
				"    note: \"{{uid}}\"",
				"spec:",
				"  containers:",
				"  - name: a",
				"    image: \"{{ .Values.image }}\"",
				"    command:",
				"    - sh",
				"    - -c",
				"    - >-",
				"      echo ${HOME} $(VAR) '{{ .Name }}' {{end}}",
				"      --flag {{flag}}",
			),
			invalid: []bad{
				{"in", 4, 0, -1, `metadata.name: unrendered template placeholder {{uid}} in "app-{{uid}}"`},
				{"in", 5, 0, -1, `metadata.namespace: unrendered template placeholder ${NAMESPACE} in "${NAMESPACE}"`},
				{"in", 7, 0, -1, `metadata.labels: unrendered template placeholder ${KEY} in label key "${KEY}"`},
				{"in", 8, 0, -1, `metadata.labels.tier: unrendered template placeholder {{tier}} in "{{tier}}"`},
				{"in", 14, 0, -1, `spec.containers[0].image: unrendered template placeholder {{ .Values.image }}`},
				{"in", 20, 0, -1, `spec.containers[0].command[2]: unrendered template placeholder {{flag}}`},
			},
		},
		{
			name: "unknown kinds: only metadata is checked",
			in: lines(
				"apiVersion: example.com/v1",
				"kind: Widget",
				"metadata:",
				"  name: w-{{uid}}",
				"  labels: {enabled: true}",
				"  annotations: [a]",
				"spec:",
				"  message: hello {{name}}",
				"  enabled: 'yes'",
			),
			invalid: []bad{
				{"in", 4, 0, -1, `metadata.name: unrendered template placeholder {{uid}} in "w-{{uid}}"`},
				{"in", 5, 0, -1, `metadata.labels.enabled: want string, got boolean true (quote it: "true")`},
				{"in", 6, 0, -1, `metadata.annotations: want object, got list`},
			},
		},
		{
			name:    "text after the document",
			in:      lines(`{"apiVersion": "v1", "kind": "ConfigMap"} 'x'`),
			invalid: []bad{{"in", 1, 0, -1, "invalid YAML: did not find expected <document start>"}},
		},
		{
			name: "keys",
			in: lines(
				"apiVersion: v1",
				"kind: ConfigMap",
				"data:",
				"  9000: \"default/web:80\"",
				"---",
				"apiVersion: v1",
				"kind: ConfigMap",
				"data:",
				"  ? [a, b]",
				"  : x",
				"  {{key}}: y",
				"  ~: z",
			),
			objects: []obj{{"in", 1, 0, -1, "ConfigMap", ""}},
			invalid: []bad{
				{"in", 9, 1, -1, "data: mapping key is a list; keys must be strings"},
				{"in", 11, 1, -1, "data: template placeholder {{key}} where a key belongs; render the template first"},
				{"in", 12, 1, -1, "data: mapping key is null; keys must be strings"},
			},
		},
		{
			name: "missing or wrong apiVersion and kind",
			in: lines(
				"metadata: {name: a}",
				"---",
				"apiVersion: v1",
				"metadata: {name: b}",
				"---",
				"kind: Pod",
				"---",
				"apiVersion: v1",
				"kind: [Pod]",
				"---",
				"apiVersion: 1",
				"kind: Pod",
				"---",
				"apiVersion: v1",
				"kind: ''",
			),
			invalid: []bad{
				{"in", 1, 0, -1, "missing apiVersion and kind: not a Kubernetes object"},
				{"in", 3, 1, -1, "missing kind"},
				{"in", 6, 2, -1, "missing apiVersion"},
				{"in", 8, 3, -1, "kind is a list, not a string"},
				{"in", 11, 4, -1, "apiVersion is a number, not a string"},
				{"in", 14, 5, -1, "missing kind"},
			},
		},
		{
			name: "documents that are not objects",
			in:   lines("just text", "---", "- a", "- b", "---", "42"),
			invalid: []bad{
				{"in", 1, 0, -1, "document is a string, not an object with apiVersion and kind"},
				{"in", 3, 1, -1, "document is a list, not an object with apiVersion and kind"},
				{"in", 6, 2, -1, "document is a number, not an object with apiVersion and kind"},
			},
		},
		{
			name: "anchors, aliases and merge keys",
			in: lines(
				"apiVersion: v1",
				"kind: Pod",
				"metadata:",
				"  name: merged",
				"  labels: &labels {app: web}",
				"spec:",
				"  nodeSelector: *labels",
				"  containers:",
				"  - &base",
				"    name: a",
				"    image: nginx",
				"  - <<: *base",
				"    name: b",
			),
			objects: []obj{{"in", 1, 0, -1, "Pod", "merged"}},
		},
		{
			name: "merge keys are type checked",
			in: lines(
				"apiVersion: v1",
				"kind: Pod",
				"x-defaults: &d {containerPort: http}",
				"spec:",
				"  containers:",
				"  - name: a",
				"    ports:",
				"    - <<: *d",
			),
			invalid: []bad{{"in", 3, 0, -1, `spec.containers[0].ports[0].containerPort: want integer (int32), got string "http"`}},
		},
		{
			name:    "alias inside itself",
			in:      lines("apiVersion: example.com/v1", "kind: Widget", "data: &d", "  self: *d"),
			invalid: []bad{{"in", 4, 0, -1, "data.self.self: alias *d refers to a node that contains it"}},
		},
		{
			name:    "values JSON cannot carry",
			in:      lines("apiVersion: v1", "kind: ConfigMap", "x: .inf"),
			invalid: []bad{{"in", 3, 0, -1, "x: value .inf cannot be represented in JSON"}},
		},
	}
	d := NewDecoder(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objects, invalid, err := d.Decode(context.Background(), strings.NewReader(tt.in), "in")
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			objs, bads := summarize(objects, invalid)
			if diff := cmp.Diff(tt.objects, objs); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.invalid, bads); diff != "" {
				t.Errorf("invalid (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeMerged(t *testing.T) {
	in := lines(
		"apiVersion: v1",
		"kind: Pod",
		"spec:",
		"  containers:",
		"  - &base {name: a, image: nginx, ports: [{containerPort: 80}]}",
		"  - <<: *base",
		"    name: b",
	)
	objects, invalid, err := NewDecoder(Options{}).Decode(context.Background(), strings.NewReader(in), "in")
	if err != nil || len(invalid) > 0 || len(objects) != 1 {
		t.Fatalf("Decode = %d objects, %v, %v; want 1 object", len(objects), invalid, err)
	}
	containers := objects[0].Object["spec"].(map[string]any)["containers"].([]any)
	want := map[string]any{"name": "b", "image": "nginx", "ports": []any{map[string]any{"containerPort": int64(80)}}}
	if diff := cmp.Diff(want, containers[1]); diff != "" {
		t.Errorf("merged container (-want +got):\n%s", diff)
	}
	// The copies are separate values: changing one leaves the other.
	containers[1].(map[string]any)["ports"].([]any)[0].(map[string]any)["containerPort"] = int64(1)
	if got := containers[0].(map[string]any)["ports"].([]any)[0].(map[string]any)["containerPort"]; got != int64(80) {
		t.Errorf("anchored container's port = %v after changing the alias, want 80", got)
	}
}

func TestDecodeProblemCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  data:\n")
	for i := range 15 {
		fmt.Fprintf(&b, "    k%d: %d\n", i, i)
	}
	b.WriteString("- apiVersion: v1\n  kind: Pod\n  spec: {hostNetwork: yes}\n")
	objects, invalid, err := NewDecoder(Options{}).Decode(context.Background(), strings.NewReader(b.String()), "in")
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(invalid) != maxProblems {
		t.Errorf("got %d invalid entries, want %d", len(invalid), maxProblems)
	}
	if last := invalid[len(invalid)-1].Reason; !strings.HasSuffix(last, "(further problems in this object are not reported)") {
		t.Errorf("last reason = %q, want a note that the rest is not reported", last)
	}
	// The next item is still read, and yes is the boolean kubectl makes of it.
	if len(objects) != 1 || objects[0].Origin.Item != 1 {
		t.Fatalf("got %d objects, want item 1", len(objects))
	}
	if got := objects[0].Object["spec"].(map[string]any)["hostNetwork"]; got != true {
		t.Errorf("hostNetwork = %#v, want true", got)
	}
}

// TestSecretValuesNotShown: a wrongly typed value in a Secret is reported
// with its path and line, never with the value itself.
func TestSecretValuesNotShown(t *testing.T) {
	const doc = `apiVersion: v1
kind: Secret
metadata:
  name: s
  labels:
    tier: 12345
data:
  password: 86753091
  token: "not-base64-s3cr3t!!"
stringData:
  api: 4242424242
  flag: yes
---
apiVersion: v1
kind: SecretList
items:
- metadata: {name: t}
  data: {k: 55555555}
`
	_, invalid, err := NewDecoder(Options{}).Decode(context.Background(), strings.NewReader(doc), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, inv := range invalid {
		lines = append(lines, inv.Origin.Line)
		for _, secret := range []string{"86753091", "s3cr3t", "4242424242", "55555555", `"yes"`} {
			if strings.Contains(inv.Reason, secret) {
				t.Errorf("line %d: reason shows a Secret value: %s", inv.Origin.Line, inv.Reason)
			}
		}
	}
	// The label is metadata and may be shown; each data value is still reported at its line.
	for _, want := range []int{6, 8, 9, 11, 12, 18} {
		if !slices.Contains(lines, want) {
			t.Errorf("no problem reported at line %d; got lines %v", want, lines)
		}
	}
	var label bool
	for _, inv := range invalid {
		if inv.Origin.Line == 6 && strings.Contains(inv.Reason, "12345") {
			label = true
		}
	}
	if !label {
		t.Error("a label value (metadata, not secret) should still be shown")
	}
}
