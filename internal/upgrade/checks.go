package upgrade

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	v2util "helm.sh/helm/v4/pkg/chart/v2/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/helmrelease"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Check IDs.
const (
	RemovedCheck       = "upgrade/removed-api"
	DeprecatedCheck    = "upgrade/deprecated-api"
	KubeVersionCheck   = "upgrade/chart-kube-version"
	SupportCheck       = "upgrade/support-window"
	KubeletSkewCheck   = "upgrade/kubelet-skew"
	RequestedCheck     = "upgrade/requested-deprecated-api"
	lastAppliedWriter  = "kubectl apply (per the last-applied-configuration annotation)"
	lastAppliedKey     = "kubectl.kubernetes.io/last-applied-configuration"
	docsURL            = "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"
	versionSkewDocsURL = "https://kubernetes.io/releases/version-skew-policy/"
)

// Chart is a chart rendered for the scan (see internal/helmchart), whose
// kubeVersion constraint the target must satisfy.
type Chart struct {
	Path, Name, Version, KubeVersion string
}

// Options configure the checks.
type Options struct {
	// Target is the Kubernetes version to judge against. When zero it is the
	// live server's minor plus one, or for files the newest minor in the data.
	Target Version
	// Charts are rendered charts whose kubeVersion is checked.
	Charts []Chart
	// Requested are the deprecated APIs clients called, from the API
	// server's apiserver_requested_deprecated_apis metric; RequestedUnreadable
	// says why the metric could not be read, when it could not.
	Requested           []Request
	RequestedUnreadable string
	// Now is the clock for the support window (default time.Now).
	Now func() time.Time
}

// Request is one deprecated API that clients requested, as the API server
// counts it.
type Request struct {
	Group, Version, Resource, Subresource string
	// RemovedRelease is the release the server says removes it ("" if none).
	RemovedRelease string
}

// Checks returns the upgrade checks.
func Checks(opts Options) []finding.Check {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return []finding.Check{
		{
			ID: RemovedCheck, Title: "APIs the target Kubernetes version no longer serves", Severity: finding.Critical, DocsURL: docsURL,
			Doc: `Reports every object whose apiVersion and kind the target version (--target-version; in scan,
the live server's minor plus one, or the newest known release for files) no longer serves: in files and
rendered Helm charts with file:line, in the manifests of Helm releases (their latest deployed revision),
and for live objects the apiVersion each writer used, read from metadata.managedFields and, as a second
signal, the last-applied-configuration annotation. Applying such a manifest after the upgrade fails, and a
controller writing through the old version breaks. Use the replacement the finding names; 'shipshape
upgrade fix' rewrites files where the conversion is mechanical. The data comes from the
prerelease-lifecycle markers of k8s.io/api; GA versions are never reported.`,
			Run: func(ctx context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
				return apiFindings(ctx, s, opts, statusRemoved)
			},
		},
		{
			ID: DeprecatedCheck, Title: "APIs deprecated by the target Kubernetes version", Severity: finding.Medium, DocsURL: docsURL,
			Doc: `Reports objects, Helm release manifests and live writers (managedFields) that use an apiVersion
deprecated at the target version but still served by it, including custom resource versions their
CustomResourceDefinition marks deprecated. They work today and stop working at the release the finding
names: move to the replacement before then.`,
			Run: func(ctx context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
				return apiFindings(ctx, s, opts, statusDeprecated)
			},
		},
		{
			ID: KubeVersionCheck, Title: "Helm charts whose kubeVersion excludes the target", Severity: finding.High, DocsURL: "https://helm.sh/docs/topics/charts/#the-kubeversion-field",
			Doc: `Reports Helm charts, rendered ones and those of the releases in a cluster, whose Chart.yaml
kubeVersion constraint the target Kubernetes version does not satisfy: Helm refuses to install or upgrade
them there. Upgrade the chart to a version that supports the target first.`,
			Run: func(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
				return kubeVersionFindings(s, opts)
			},
		},
		{
			ID: SupportCheck, Title: "Control-plane version outside or near the end of its support window", Severity: finding.High, DocsURL: "https://kubernetes.io/releases/",
			Doc: `Reports a live control plane whose minor release has reached its end of life (high) or reaches
it within 90 days (medium), by the release and end-of-life dates shipshape carries, and a target more
than one minor ahead, since the control plane upgrades one minor at a time. Unsupported releases get no
security fixes.`,
			Run: func(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
				return supportFindings(s, opts)
			},
		},
		{
			ID: RequestedCheck, Title: "Deprecated APIs that clients are calling", Severity: finding.Critical, DocsURL: docsURL,
			Doc: `Reports the deprecated APIs that clients actually requested since the API server started, from its
apiserver_requested_deprecated_apis metric (live clusters, when /metrics is readable): critical when the
target removes the API, medium otherwise. This finds the controllers, CI jobs and scripts that no file
or managedFields entry shows. The API server's audit log (annotation k8s.io/deprecated) names the client.`,
			Run: func(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
				return requestedFindings(s, opts)
			},
		},
		{
			ID: KubeletSkewCheck, Title: "Kubelets outside the version skew policy", Severity: finding.High, DocsURL: versionSkewDocsURL,
			Doc: `Reports nodes whose kubelet is newer than the API server or more minors older than the skew
policy allows (three since 1.28, two before), now (high) or once the control plane is at the target
version (medium). Upgrade those nodes before, or together with, the control plane.`,
			Run: func(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
				return skewFindings(s, opts)
			},
		},
	}
}

// target resolves the version the checks judge against.
func target(s *snapshot.Snapshot, opts Options, t *Table) Version {
	if !opts.Target.IsZero() {
		return opts.Target
	}
	if cur, ok := serverVersion(s); ok {
		return Version{Minor: cur.Minor + 1}
	}
	return t.Newest()
}

func serverVersion(s *snapshot.Snapshot) (Version, bool) {
	if s.Server == nil || s.Server.GitVersion == "" {
		return Version{}, false
	}
	v, err := ParseVersion(s.Server.GitVersion)
	return v, err == nil
}

// apiFindings reports the uses of APIs that have the wanted status at the target.
func apiFindings(ctx context.Context, s *snapshot.Snapshot, opts Options, want status) ([]finding.Finding, error) {
	t, err := Data()
	if err != nil {
		return nil, err
	}
	tgt := target(s, opts, t)
	cur, live := serverVersion(s)
	live = live && s.Source == snapshot.SourceCluster
	var crds map[string]string
	if want == statusDeprecated {
		crds = crdDeprecations(s)
	}
	var out []finding.Finding

	judge := func(apiVersion, kind string) (API, string, bool) {
		if a, ok := t.Lookup(apiVersion, kind); ok && at(a, tgt) == want {
			return a, "", true
		}
		if want == statusDeprecated {
			if w, ok := crds[apiVersion+" "+kind]; ok {
				return API{APIVersion: apiVersion, Kind: kind}, w, true
			}
		}
		return API{}, "", false
	}

	for _, o := range s.Objects {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		kind := o.GetKind()
		if !live {
			if a, crdMsg, ok := judge(o.GetAPIVersion(), kind); ok {
				out = append(out, finding.Finding{
					Check: checkOf(want), Severity: severityOf(want),
					Message:     describe(a, crdMsg, tgt, ""),
					Remediation: sentence(remedy(a, crdMsg)),
					Object:      finding.ObjectOf(o), Location: finding.LocationOf(o),
				})
			}
			continue
		}
		for _, w := range writers(o.Unstructured) {
			a, crdMsg, ok := judge(w.apiVersion, kind)
			if !ok {
				continue
			}
			// A version the server already stopped serving cannot have
			// been written recently: the entry predates the last upgrade.
			if a.Removed != "" && cur.Minor >= minorOf(a.Removed) {
				continue
			}
			obj := finding.ObjectOf(o)
			out = append(out, finding.Finding{
				Check: checkOf(want), Severity: severityOf(want),
				Message:     describe(a, crdMsg, tgt, strings.Join(w.by, ", ")+" wrote it through"),
				Remediation: sentence(remedy(a, crdMsg) + "; update the client or manifest that writes it"),
				Object:      obj,
			})
		}
	}

	rels, problems := helmrelease.Latest(recordsOf(s))
	for _, p := range problems {
		if want == statusRemoved {
			out = append(out, finding.Finding{Check: RemovedCheck, Severity: finding.Info,
				Message: fmt.Sprintf("could not read Helm release record %s: %v; its manifest was not checked", p.Record, p.Err)})
		}
	}
	for _, r := range rels {
		fs, err := releaseFindings(ctx, r, judge, want, tgt)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

func checkOf(st status) string {
	if st == statusRemoved {
		return RemovedCheck
	}
	return DeprecatedCheck
}

func severityOf(st status) finding.Severity {
	if st == statusRemoved {
		return finding.Critical
	}
	return finding.Medium
}

func minorOf(v string) int {
	p, err := ParseVersion(v)
	if err != nil {
		return -1
	}
	return p.Minor
}

// describe says what is wrong with one use of a; via, when set, says who
// uses it ("Helm release x applies").
func describe(a API, crdMsg string, tgt Version, via string) string {
	var b strings.Builder
	if via != "" {
		b.WriteString(via + " " + a.APIVersion + " " + a.Kind + ", which")
	} else {
		b.WriteString(a.APIVersion + " " + a.Kind)
	}
	if crdMsg != "" {
		b.WriteString(" is deprecated by its CustomResourceDefinition: " + crdMsg)
		return b.String()
	}
	if a.Removed != "" && at(a, tgt) == statusRemoved {
		fmt.Fprintf(&b, " is no longer served from Kubernetes %s", a.Removed)
		if a.Deprecated != "" {
			fmt.Fprintf(&b, " (deprecated in %s)", a.Deprecated)
		}
	} else {
		b.WriteString(" is deprecated")
		if a.Deprecated != "" {
			fmt.Fprintf(&b, " since Kubernetes %s", a.Deprecated)
		}
		if a.Removed != "" {
			fmt.Fprintf(&b, " and no longer served from %s", a.Removed)
		}
	}
	fmt.Fprintf(&b, "; target %s", tgt)
	return b.String()
}

func remedy(a API, crdMsg string) string {
	if crdMsg != "" {
		return "use a version the CustomResourceDefinition does not deprecate (see its spec.versions)"
	}
	if a.Replacement == "" {
		return "no replacement API: remove the object or use what the deprecation guide recommends"
	}
	av, kind, _ := strings.Cut(a.Replacement, " ")
	s := "use " + av
	if kind != a.Kind {
		s += " " + kind
	}
	if since := replacementSince(a); since != "" {
		s += fmt.Sprintf(" (served since Kubernetes %s)", since)
	}
	if _, ok := conversionFor(a.APIVersion, a.Kind); ok {
		s += "; 'shipshape upgrade fix' converts manifest files (not chart templates)"
	}
	return s
}

// replacementSince is the release the replacement API was introduced in,
// or "" when the data does not say.
func replacementSince(a API) string {
	t, err := Data()
	if err != nil {
		return ""
	}
	return t.Introduced(a.Replacement)
}

// writer is one apiVersion an object was written through, and by whom.
type writer struct {
	apiVersion string
	by         []string
}

// writers reads which apiVersions an object's writers used: every
// managedFields entry, and the last-applied annotation as a second signal.
func writers(o *unstructured.Unstructured) []writer {
	by := map[string][]string{}
	for _, mf := range o.GetManagedFields() {
		if mf.APIVersion == "" {
			continue
		}
		name := mf.Manager
		if name == "" {
			name = "(unnamed manager)"
		}
		name = fmt.Sprintf("%q (%s)", name, strings.ToLower(string(mf.Operation)))
		by[mf.APIVersion] = append(by[mf.APIVersion], name)
	}
	if la, ok := o.GetAnnotations()[lastAppliedKey]; ok {
		var head struct {
			APIVersion string `json:"apiVersion"`
		}
		if json.Unmarshal([]byte(la), &head) == nil && head.APIVersion != "" {
			by[head.APIVersion] = append(by[head.APIVersion], lastAppliedWriter)
		}
	}
	out := make([]writer, 0, len(by))
	for av, names := range by {
		sort.Strings(names)
		out = append(out, writer{apiVersion: av, by: names})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].apiVersion < out[j].apiVersion })
	return out
}

// crdDeprecations maps "group/version Kind" to the deprecation warning of
// every CRD version marked deprecated in the snapshot.
func crdDeprecations(s *snapshot.Snapshot) map[string]string {
	out := map[string]string{}
	for _, o := range s.Objects {
		if o.GetKind() != "CustomResourceDefinition" || o.GroupVersionKind().Group != "apiextensions.k8s.io" {
			continue
		}
		// Read without NestedSlice, which deep-copies the (large) schemas.
		group, _ := nested(o.Object, "spec", "group").(string)
		kind, _ := nested(o.Object, "spec", "names", "kind").(string)
		versions, _ := nested(o.Object, "spec", "versions").([]any)
		for _, v := range versions {
			m, ok := v.(map[string]any)
			if !ok || m["deprecated"] != true {
				continue
			}
			name, _ := m["name"].(string)
			warn, _ := m["deprecationWarning"].(string)
			if warn == "" {
				warn = fmt.Sprintf("%s/%s %s is deprecated", group, name, kind)
			}
			out[group+"/"+name+" "+kind] = warn
		}
	}
	return out
}

// nested returns the value at path in obj without copying it, or nil.
func nested(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func recordsOf(s *snapshot.Snapshot) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range s.Objects {
		if (o.GetKind() == "Secret" || o.GetKind() == "ConfigMap") && helmrelease.IsRecord(o.Unstructured) {
			out = append(out, o.Unstructured)
		}
	}
	return out
}

// releaseFindings judges the objects in one release's manifest.
func releaseFindings(ctx context.Context, r *helmrelease.Release, judge func(string, string) (API, string, bool), want status, tgt Version) ([]finding.Finding, error) {
	name := fmt.Sprintf("Helm release %s/%s (revision %d, chart %s-%s)", r.Namespace, r.Name, r.Revision, r.Chart.Name, r.Chart.Version)
	objs, _, err := manifest.NewDecoder(manifest.Options{}).Decode(ctx, strings.NewReader(r.Manifest), name)
	if err != nil {
		return nil, fmt.Errorf("read the manifest of %s: %w", name, err)
	}
	sources := sourceLines(r.Manifest)
	var out []finding.Finding
	for _, o := range objs {
		a, crdMsg, ok := judge(o.GetAPIVersion(), o.GetKind())
		if !ok {
			continue
		}
		via := name + " applies it through"
		if src := sourceOf(sources, o.Origin.Line); src != "" {
			via = name + " applies it from " + src + " through"
		}
		obj := finding.ObjectOf(o)
		if obj.Namespace == "" && o.GetKind() != "" {
			obj.Namespace = r.Namespace
		}
		out = append(out, finding.Finding{
			Check: checkOf(want), Severity: severityOf(want),
			Message:     describe(a, crdMsg, tgt, via),
			Remediation: sentence(remedy(a, crdMsg) + "; upgrade the release to a chart version that uses it"),
			Object:      obj,
		})
	}
	return out, nil
}

type sourceLine struct {
	line int
	path string
}

// sourceLines finds Helm's "# Source: chart/templates/x.yaml" comments.
func sourceLines(m string) []sourceLine {
	var out []sourceLine
	line := 0
	for rest := m; rest != ""; {
		var l string
		l, rest, _ = strings.Cut(rest, "\n")
		line++
		if p, ok := strings.CutPrefix(strings.TrimSpace(l), "# Source: "); ok {
			out = append(out, sourceLine{line, strings.TrimSpace(p)})
		}
	}
	return out
}

func sourceOf(src []sourceLine, line int) string {
	path := ""
	for _, s := range src {
		if s.line > line {
			break
		}
		path = s.path
	}
	return path
}

func kubeVersionFindings(s *snapshot.Snapshot, opts Options) ([]finding.Finding, error) {
	t, err := Data()
	if err != nil {
		return nil, err
	}
	tgt := target(s, opts, t)
	ver := tgt.String() + ".0"
	var out []finding.Finding
	for _, c := range opts.Charts {
		if c.KubeVersion != "" && !v2util.IsCompatibleRange(c.KubeVersion, ver) {
			out = append(out, finding.Finding{
				Check: KubeVersionCheck, Severity: finding.High,
				Message:     fmt.Sprintf("chart %s-%s requires Kubernetes %q, which %s does not satisfy", c.Name, c.Version, c.KubeVersion, tgt),
				Remediation: sentence("use a chart version whose kubeVersion includes " + tgt.String()),
				Location:    &finding.Location{Path: c.Path + "/Chart.yaml"},
			})
		}
	}
	rels, _ := helmrelease.Latest(recordsOf(s))
	for _, r := range rels {
		kv := r.Chart.KubeVersion
		if kv == "" || v2util.IsCompatibleRange(kv, ver) {
			continue
		}
		out = append(out, finding.Finding{
			Check: KubeVersionCheck, Severity: finding.High,
			Message: fmt.Sprintf("Helm release %s/%s (revision %d) uses chart %s-%s, which requires Kubernetes %q; %s does not satisfy it, so the release cannot be upgraded there",
				r.Namespace, r.Name, r.Revision, r.Chart.Name, r.Chart.Version, kv, tgt),
			Remediation: sentence("upgrade the release to a chart version whose kubeVersion includes " + tgt.String() + " before upgrading the cluster"),
			Object:      &finding.Object{APIVersion: "v1", Kind: r.Record.Kind, Namespace: r.Record.Namespace, Name: r.Record.Name},
		})
	}
	return out, nil
}

func requestedFindings(s *snapshot.Snapshot, opts Options) ([]finding.Finding, error) {
	t, err := Data()
	if err != nil {
		return nil, err
	}
	tgt := target(s, opts, t)
	var out []finding.Finding
	if opts.RequestedUnreadable != "" {
		out = append(out, finding.Finding{Check: RequestedCheck, Severity: finding.Info,
			Message: "could not read the API server's apiserver_requested_deprecated_apis metric: " + opts.RequestedUnreadable})
	}
	for _, r := range opts.Requested {
		gv := r.Version
		if r.Group != "" {
			gv = r.Group + "/" + r.Version
		}
		res := r.Resource
		if r.Subresource != "" {
			res += "/" + r.Subresource
		}
		f := finding.Finding{Check: RequestedCheck, Severity: finding.Medium,
			Remediation: "find the client in the API server's audit log (annotation k8s.io/deprecated) and move it to the replacement version."}
		removed := "no removal scheduled"
		if r.RemovedRelease != "" {
			removed = "removed in " + r.RemovedRelease
			if rv, err := ParseVersion(r.RemovedRelease); err == nil && tgt.Minor >= rv.Minor {
				f.Severity = finding.Critical
			}
		}
		f.Message = fmt.Sprintf("clients requested the deprecated API %s %s (%s; target %s)", gv, res, removed, tgt)
		out = append(out, f)
	}
	return out, nil
}

// sentence ends a non-empty remediation with a full stop.
func sentence(s string) string {
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}
