package guard

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/shipshape-dev/shipshape/internal/audit/rbac"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// annotationFilter exempts findings whose object carries
// shipshape.dev/exempt naming the check and a shipshape.dev/exempt-reason,
// standing in for the audit exemption policy in these tests.
func annotationFilter(fs []finding.Finding, s *snapshot.Snapshot) (kept, exempted []finding.Finding) {
	for _, f := range fs {
		ex := false
		for _, o := range s.Objects {
			a := o.GetAnnotations()
			if a["shipshape.dev/exempt-reason"] != "" && slices.Contains(strings.Split(a["shipshape.dev/exempt"], ","), f.Check) {
				ex = true
			}
		}
		if ex {
			exempted = append(exempted, f)
		} else {
			kept = append(kept, f)
		}
	}
	return kept, exempted
}

const testConfig = `
defaultMode: warn
minSeverity: low
rules:
- objectSelector: {matchLabels: {shipshape.dev/guard: "off"}}
  mode: off
- namespaces: ["deny-*"]
  mode: deny
`

func wildcardRole(ns string, extraMeta string) string {
	return `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r","namespace":"` + ns + `"` + extraMeta + `},
"rules":[{"apiGroups":[""],"resources":["*"],"verbs":["list"]}]}`
}

func TestReview(t *testing.T) {
	cfg, err := ParseConfig([]byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(Options{Checks: rbac.Checks(), Filter: annotationFilter, Config: cfg})
	clean := `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"ok"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}`
	tests := []struct {
		name      string
		op        admissionv1.Operation
		ns        string
		object    string
		allowed   bool
		nWarnings int
		mode      Mode
	}{
		{"warn mode warns and allows", admissionv1.Create, "team", wildcardRole("team", ""), true, 1, Warn},
		{"namespace from the request", admissionv1.Update, "team", wildcardRole("", ""), true, 1, Warn},
		{"deny mode denies", admissionv1.Create, "deny-prod", wildcardRole("deny-prod", ""), false, 1, Deny},
		{"deny mode passes a clean object", admissionv1.Create, "deny-prod", clean, true, 0, Deny},
		{"exempted object passes", admissionv1.Create, "deny-prod", wildcardRole("deny-prod", `,"annotations":{"shipshape.dev/exempt":"rbac/wildcard","shipshape.dev/exempt-reason":"break-glass"}`), true, 0, Deny},
		{"exemption needs a reason", admissionv1.Create, "deny-prod", wildcardRole("deny-prod", `,"annotations":{"shipshape.dev/exempt":"rbac/wildcard"}`), false, 1, Deny},
		{"label selector turns it off", admissionv1.Create, "deny-prod", wildcardRole("deny-prod", `,"labels":{"shipshape.dev/guard":"off"}`), true, 0, Off},
		{"delete is not judged", admissionv1.Delete, "deny-prod", "", true, 0, Off},
		{"undecodable object is allowed with a warning", admissionv1.Create, "deny-prod", `{"kind":`, true, 1, Off},
	}
	var out bytes.Buffer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &admissionv1.AdmissionRequest{UID: types.UID("uid-" + tt.name), Operation: tt.op, Namespace: tt.ns}
			if tt.object != "" {
				req.Object = runtime.RawExtension{Raw: []byte(tt.object)}
			}
			resp, mode := s.Review(context.Background(), req)
			if resp.UID != req.UID {
				t.Errorf("UID %q, want %q", resp.UID, req.UID)
			}
			if resp.Allowed != tt.allowed || len(resp.Warnings) != tt.nWarnings || mode != tt.mode {
				t.Errorf("allowed=%v warnings=%q mode=%s; want allowed=%v, %d warning(s), mode %s", resp.Allowed, resp.Warnings, mode, tt.allowed, tt.nWarnings, tt.mode)
			}
			b, _ := json.Marshal(resp)
			out.WriteString(tt.name + ": " + string(b) + "\n")
		})
	}
	golden.Check(t, "review.golden", out.Bytes())
}

func TestConfigErrors(t *testing.T) {
	for _, bad := range []string{
		"defaultMode: block\n",
		"rules:\n- mode: deny\n  minSeverity: severe\n",
		"rules:\n- mode: deny\n  namespaces: ['[']\n",
		"rules:\n- mode: deny\n  objectSelector: {matchExpressions: [{key: a, operator: Near}]}\n",
		"defaultMod: warn\n",
	} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%q) accepted it", bad)
		}
	}
}

func TestCertRenewalAndMetrics(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ca, err := NewCA(now, 10*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := NewCertManager(ca, CertOptions{Hosts: []string{"127.0.0.1", "guard.example.svc"}, Validity: 30 * 24 * time.Hour, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	first := cm.Serial()
	now = now.Add(19 * 24 * time.Hour)
	if renewed, err := cm.RenewIfDue(); err != nil || renewed {
		t.Fatalf("renewed=%v err=%v with 11 days left of 30; want no renewal", renewed, err)
	}
	now = now.Add(2 * 24 * time.Hour)
	if renewed, err := cm.RenewIfDue(); err != nil || !renewed {
		t.Fatalf("renewed=%v err=%v with 9 days left of 30; want a renewal (a third before expiry)", renewed, err)
	}
	if cm.Serial().Cmp(first) == 0 {
		t.Fatal("serial unchanged after renewal")
	}
	if got, want := cm.NotAfter(), now.Add(30*24*time.Hour); !got.Equal(want) {
		t.Errorf("NotAfter %v, want %v", got, want)
	}

	// The renewed certificate is what TLS clients see, without a restart,
	// and it verifies against the CA.
	s := NewServer(Options{Checks: rbac.Checks(), Certs: cm, Now: clock})
	// httptest's StartTLS would install its own certificate; serve ours.
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.Listener = tls.NewListener(srv.Listener, cm.TLSConfig())
	srv.Start()
	defer srv.Close()
	srv.URL = strings.Replace(srv.URL, "http://", "https://", 1)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Time: clock}}}
	resp, err := client.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.TLS.PeerCertificates[0].SerialNumber; got.Cmp(cm.Serial()) != 0 {
		t.Errorf("served serial %v, want the renewed %v", got, cm.Serial())
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `shipshape_guard_certificate_expiry_timestamp_seconds{certificate="serving"} `+itoa(cm.NotAfter().Unix())) {
		t.Errorf("metrics lack the serving certificate's expiry:\n%s", body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		r, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", path, r.Status)
		}
	}
	now = now.Add(31 * 24 * time.Hour) // expired, never renewed
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with an expired certificate: %d, want 503", rec.Code)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestReviewWithRelated: a binding is judged with the role it names, which
// comes from Related, and only findings about the reviewed object count.
func TestReviewWithRelated(t *testing.T) {
	reader := `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"reader"},
"rules":[{"apiGroups":[""],"resources":["secrets","*"],"verbs":["list"]}]}`
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(reader)); err != nil {
		t.Fatal(err)
	}
	binding := []byte(`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"b"},
"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"reader"},"subjects":[{"kind":"User","name":"alice"}]}`)
	req := &admissionv1.AdmissionRequest{UID: "1", Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: binding}}

	alone := NewServer(Options{Checks: rbac.Checks()})
	if resp, _ := alone.Review(context.Background(), req); len(resp.Warnings) != 0 {
		t.Errorf("without the role: warnings %q, want none", resp.Warnings)
	}
	withRole := NewServer(Options{Checks: rbac.Checks(), Related: func(*unstructured.Unstructured) []snapshot.Object {
		return []snapshot.Object{{Unstructured: u, Origin: snapshot.Origin{Item: -1}}}
	}})
	resp, _ := withRole.Review(context.Background(), req)
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "["+rbac.SecretsCheck+"]") {
		t.Errorf("with the role: warnings %q, want exactly one %s (the role's own wildcard finding is not about the binding)", resp.Warnings, rbac.SecretsCheck)
	}
}
