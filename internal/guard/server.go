package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Filter splits findings into those kept and those exempted, for example by
// exemption annotations and an exemption file (the audit exemption policy's
// Split method has this signature).
type Filter func(fs []finding.Finding, s *snapshot.Snapshot) (kept, exempted []finding.Finding)

// SourceAdmission marks the one-object snapshots built from AdmissionReviews.
const SourceAdmission snapshot.Source = "admission"

// Limits of the warnings returned to the API server, which truncates long
// ones (it keeps about 4 KiB in all).
const (
	maxWarnings    = 12
	maxWarningSize = 240
	maxBodyBytes   = 16 << 20
)

// Server answers AdmissionReviews. Build it with NewServer.
type Server struct {
	checks  []finding.Check
	filter  Filter
	config  *Config
	certs   *CertManager
	log     *slog.Logger
	now     func() time.Time
	related func(obj *unstructured.Unstructured) []snapshot.Object

	metrics metrics
}

// Options are what a Server needs.
type Options struct {
	// Checks are the checks to run: the same list `shipshape scan` runs.
	Checks []finding.Check
	// Filter removes exempted findings; nil exempts nothing.
	Filter Filter
	// Config chooses the mode per object; nil means DefaultConfig.
	Config *Config
	// Certs is the serving certificate, for /readyz and /metrics; may be nil
	// when TLS is terminated elsewhere (tests of the handler).
	Certs *CertManager
	// Log receives one line per failed request; nil discards.
	Log *slog.Logger
	// Now is the clock for latency metrics; default time.Now.
	Now func() time.Time
	// Related returns objects the checks need beside the one under review
	// (its namespace's PodDisruptionBudgets, the role a binding names); nil
	// judges the object alone. Only findings about the reviewed object are
	// reported.
	Related func(obj *unstructured.Unstructured) []snapshot.Object
}

// NewServer returns a server with the given checks.
func NewServer(o Options) *Server {
	s := &Server{checks: slices.Clone(o.Checks), filter: o.Filter, config: o.Config, certs: o.Certs, log: o.Log, now: o.Now, related: o.Related}
	if s.config == nil {
		s.config = DefaultConfig()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.metrics.reviews = map[[2]string]uint64{}
	s.metrics.buckets = make([]uint64, len(latencyBuckets))
	return s
}

// Handler serves POST /validate, GET /healthz, /readyz and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /validate", s.serveValidate)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.serveReady)
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	return mux
}

func (s *Server) serveReady(w http.ResponseWriter, _ *http.Request) {
	switch {
	case len(s.checks) == 0:
		http.Error(w, "no checks loaded", http.StatusServiceUnavailable)
	case s.certs != nil && !s.now().Before(s.certs.NotAfter()):
		http.Error(w, "serving certificate expired", http.StatusServiceUnavailable)
	default:
		_, _ = io.WriteString(w, "ok\n")
	}
}

func (s *Server) serveValidate(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(body) > maxBodyBytes {
		s.log.Warn("read admission review", "err", err, "bytes", len(body))
		http.Error(w, "cannot read the request body", http.StatusBadRequest)
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		s.log.Warn("decode admission review", "err", err)
		http.Error(w, "want an admission.k8s.io/v1 AdmissionReview with a request", http.StatusBadRequest)
		return
	}
	resp, mode := s.Review(r.Context(), review.Request)
	out := admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Response: resp}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(out); err != nil {
		s.log.Warn("write admission response", "err", err)
	}
	decision := "allowed"
	if !resp.Allowed {
		decision = "denied"
	}
	s.metrics.observe(string(mode), decision, s.now().Sub(start))
}

// Review judges one admission request. Requests without an object (DELETE,
// CONNECT) and objects that cannot be decoded are allowed: the API server has
// validated the object already, and the guard must never block on its own
// failure; the reason is returned as a warning.
func (s *Server) Review(ctx context.Context, req *admissionv1.AdmissionRequest) (*admissionv1.AdmissionResponse, Mode) {
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if (req.Operation != admissionv1.Create && req.Operation != admissionv1.Update) || len(req.Object.Raw) == 0 {
		return resp, Off
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(req.Object.Raw); err != nil {
		resp.Warnings = []string{clip("shipshape guard could not read the object: " + err.Error())}
		return resp, Off
	}
	if u.GetNamespace() == "" && req.Namespace != "" {
		u.SetNamespace(req.Namespace)
	}
	if u.GetName() == "" && req.Name != "" {
		u.SetName(req.Name)
	}
	rule := s.config.ruleFor(u.GetNamespace(), u.GetLabels())
	if rule.Mode == Off {
		return resp, Off
	}
	snap := &snapshot.Snapshot{Source: SourceAdmission, Objects: []snapshot.Object{{Unstructured: u, Origin: snapshot.Origin{Item: -1}}}}
	self := finding.ObjectOf(snap.Objects[0])
	if s.related != nil {
		for _, o := range s.related(u) {
			if same(finding.ObjectOf(o), self) {
				continue // the stored copy of the object under review
			}
			snap.Objects = append(snap.Objects, o)
		}
	}
	fs, failed := s.judge(ctx, snap)
	fs = slices.DeleteFunc(fs, func(f finding.Finding) bool { return f.Object == nil || !same(f.Object, self) })
	exempted := 0
	if s.filter != nil && len(fs) > 0 {
		var ex []finding.Finding
		fs, ex = s.filter(fs, snap)
		exempted = len(ex)
	}
	s.metrics.addExempted(exempted)
	fs = slices.DeleteFunc(fs, func(f finding.Finding) bool { return f.Severity < rule.min })
	finding.Sort(fs)

	var warnings []string
	for i, f := range fs {
		if i == maxWarnings {
			warnings = append(warnings, fmt.Sprintf("shipshape: %d more finding(s); run shipshape audit on the manifest", len(fs)-i))
			break
		}
		warnings = append(warnings, clip(fmt.Sprintf("shipshape %s [%s]: %s", f.Severity, f.Check, f.Message)))
	}
	for _, c := range failed {
		warnings = append(warnings, clip("shipshape: check "+c+" failed; the object was not fully judged"))
	}
	resp.Warnings = warnings
	if rule.Mode == Deny && len(fs) > 0 {
		ids := make([]string, 0, len(fs))
		for _, f := range fs {
			ids = append(ids, f.Check)
		}
		ids = slices.Compact(sortStrings(ids))
		resp.Allowed = false
		resp.Result = &metav1.Status{
			Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden,
			Message: fmt.Sprintf("shipshape guard denied %s: %d finding(s) at or above %s (%s); see the warnings, or exempt the object with a reason",
				finding.ObjectOf(snap.Objects[0]), len(fs), rule.min, strings.Join(ids, ", ")),
		}
	}
	return resp, rule.Mode
}

// same reports whether two finding objects name the same object; the API
// version does not matter.
func same(a, b *finding.Object) bool {
	return a.Kind == b.Kind && a.Namespace == b.Namespace && a.Name == b.Name
}

func sortStrings(s []string) []string { sort.Strings(s); return s }

// judge runs every check; the IDs of checks that failed are returned apart.
func (s *Server) judge(ctx context.Context, snap *snapshot.Snapshot) ([]finding.Finding, []string) {
	var out []finding.Finding
	var failed []string
	for _, c := range s.checks {
		if c.ID == finding.InvalidDocumentCheck {
			continue
		}
		fs, err := c.Run(ctx, snap)
		if err != nil {
			failed = append(failed, c.ID)
			s.log.Warn("check failed", "check", c.ID, "err", err)
			continue
		}
		out = append(out, fs...)
	}
	return out, failed
}

func clip(s string) string {
	if len(s) <= maxWarningSize {
		return s
	}
	cut := maxWarningSize - 3
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// latencyBuckets are the upper bounds, in seconds, of the review latency histogram.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type metrics struct {
	mu       sync.Mutex
	reviews  map[[2]string]uint64 // mode, decision
	exempted uint64
	buckets  []uint64
	count    uint64
	sum      float64
}

func (m *metrics) observe(mode, decision string, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reviews[[2]string{mode, decision}]++
	sec := d.Seconds()
	for i, b := range latencyBuckets {
		if sec <= b {
			m.buckets[i]++
		}
	}
	m.count++
	m.sum += sec
}

func (m *metrics) addExempted(n int) {
	if n == 0 {
		return
	}
	m.mu.Lock()
	m.exempted += uint64(n)
	m.mu.Unlock()
}

// serveMetrics writes the Prometheus text exposition format by hand: a few
// gauges and counters do not need the client library.
func (s *Server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var b strings.Builder
	if s.certs != nil {
		b.WriteString("# HELP shipshape_guard_certificate_expiry_timestamp_seconds When a certificate of the guard expires, as a Unix time.\n")
		b.WriteString("# TYPE shipshape_guard_certificate_expiry_timestamp_seconds gauge\n")
		fmt.Fprintf(&b, "shipshape_guard_certificate_expiry_timestamp_seconds{certificate=\"ca\"} %d\n", s.certs.CA().Cert.NotAfter.Unix())
		fmt.Fprintf(&b, "shipshape_guard_certificate_expiry_timestamp_seconds{certificate=\"serving\"} %d\n", s.certs.NotAfter().Unix())
	}
	m := &s.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	b.WriteString("# HELP shipshape_guard_reviews_total Admission reviews answered, by mode and decision.\n")
	b.WriteString("# TYPE shipshape_guard_reviews_total counter\n")
	keys := make([][2]string, 0, len(m.reviews))
	for k := range m.reviews {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+"/"+a[1], b[0]+"/"+b[1]) })
	for _, k := range keys {
		fmt.Fprintf(&b, "shipshape_guard_reviews_total{mode=%q,decision=%q} %d\n", k[0], k[1], m.reviews[k])
	}
	b.WriteString("# HELP shipshape_guard_exempted_findings_total Findings removed by exemptions.\n")
	b.WriteString("# TYPE shipshape_guard_exempted_findings_total counter\n")
	fmt.Fprintf(&b, "shipshape_guard_exempted_findings_total %d\n", m.exempted)
	b.WriteString("# HELP shipshape_guard_review_duration_seconds Time to answer one admission review.\n")
	b.WriteString("# TYPE shipshape_guard_review_duration_seconds histogram\n")
	for i, ub := range latencyBuckets {
		fmt.Fprintf(&b, "shipshape_guard_review_duration_seconds_bucket{le=\"%g\"} %d\n", ub, m.buckets[i])
	}
	fmt.Fprintf(&b, "shipshape_guard_review_duration_seconds_bucket{le=\"+Inf\"} %d\n", m.count)
	fmt.Fprintf(&b, "shipshape_guard_review_duration_seconds_sum %g\n", m.sum)
	fmt.Fprintf(&b, "shipshape_guard_review_duration_seconds_count %d\n", m.count)
	_, _ = io.WriteString(w, b.String())
}
