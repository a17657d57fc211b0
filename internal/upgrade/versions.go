package upgrade

import (
	"fmt"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Release is a Kubernetes minor release and its support window.
type Release struct {
	Version  Version
	Released string // YYYY-MM-DD
	// EndOfLife is the end of patch support, YYYY-MM-DD.
	EndOfLife string
	// Estimated marks dates derived from the release cadence (release plus
	// about fourteen months) rather than taken from the published schedule.
	Estimated bool
}

// releases are the release and end-of-life dates of kubernetes.io/releases.
// Patch support lasts about fourteen months: twelve, plus two to upgrade.
var releases = []Release{
	{Version{19}, "2020-08-26", "2021-10-28", false},
	{Version{20}, "2020-12-08", "2022-02-28", false},
	{Version{21}, "2021-04-08", "2022-06-28", false},
	{Version{22}, "2021-08-04", "2022-10-28", false},
	{Version{23}, "2021-12-07", "2023-02-28", false},
	{Version{24}, "2022-05-03", "2023-07-28", false},
	{Version{25}, "2022-08-23", "2023-10-27", false},
	{Version{26}, "2022-12-09", "2024-02-28", false},
	{Version{27}, "2023-04-11", "2024-06-28", false},
	{Version{28}, "2023-08-15", "2024-10-28", false},
	{Version{29}, "2023-12-13", "2025-02-28", false},
	{Version{30}, "2024-04-17", "2025-06-28", false},
	{Version{31}, "2024-08-13", "2025-10-28", false},
	{Version{32}, "2024-12-11", "2026-02-28", false},
	{Version{33}, "2025-04-23", "2026-06-28", false},
	{Version{34}, "2025-08-27", "2026-10-27", false},
	{Version{35}, "2025-12-17", "2027-02-28", false},
	{Version{36}, "2026-04-22", "2027-06-28", false},
	{Version{37}, "2026-08-26", "2027-10-28", false},
}

// Releases returns the support windows shipshape knows, oldest first.
func Releases() []Release { return append([]Release(nil), releases...) }

func releaseOf(v Version) (Release, bool) {
	for _, r := range releases {
		if r.Version == v {
			return r, true
		}
	}
	return Release{}, false
}

// warnBefore is how long before the end of life the support check warns.
const warnBefore = 90 * 24 * time.Hour

func supportFindings(s *snapshot.Snapshot, opts Options) ([]finding.Finding, error) {
	cur, ok := serverVersion(s)
	if !ok || s.Source != snapshot.SourceCluster {
		return nil, nil
	}
	t, err := Data()
	if err != nil {
		return nil, err
	}
	tgt := target(s, opts, t)
	var out []finding.Finding
	add := func(sev finding.Severity, msg, fix string) {
		out = append(out, finding.Finding{Check: SupportCheck, Severity: sev, Message: msg, Remediation: sentence(fix), DocsURL: "https://kubernetes.io/releases/"})
	}
	r, known := releaseOf(cur)
	switch {
	case !known && cur.Minor < releases[0].Version.Minor:
		add(finding.High, fmt.Sprintf("the control plane runs Kubernetes %s, which reached its end of life years ago", cur),
			"upgrade one minor release at a time to a supported release")
	case !known:
		add(finding.Info, fmt.Sprintf("the control plane runs Kubernetes %s, newer than the support data shipshape carries (up to %s)", cur, releases[len(releases)-1].Version), "")
	default:
		eol, err := time.Parse(time.DateOnly, r.EndOfLife)
		if err != nil {
			return nil, fmt.Errorf("support data for %s: %w", cur, err)
		}
		about := ""
		if r.Estimated {
			about = "about "
		}
		now := opts.Now()
		switch {
		case !now.Before(eol):
			add(finding.High, fmt.Sprintf("the control plane runs Kubernetes %s, which reached its end of life on %s%s and gets no more security fixes", cur, about, r.EndOfLife),
				"upgrade one minor release at a time to a supported release")
		case eol.Sub(now) <= warnBefore:
			add(finding.Medium, fmt.Sprintf("the control plane runs Kubernetes %s, which reaches its end of life on %s%s", cur, about, r.EndOfLife),
				"plan the upgrade to "+Version{cur.Minor + 1}.String()+" now")
		}
	}
	if tgt.Minor > cur.Minor+1 {
		add(finding.Low, fmt.Sprintf("the target %s is %d minor releases ahead of the control plane's %s; the control plane upgrades one minor at a time", tgt, tgt.Minor-cur.Minor, cur),
			fmt.Sprintf("upgrade through each release from %s to %s, checking each step with --target-version", Version{cur.Minor + 1}, tgt))
	}
	return out, nil
}

// kubeletSkew is how many minors a kubelet may lag the API server.
func kubeletSkew(apiserver Version) int {
	if apiserver.Minor >= 28 {
		return 3
	}
	return 2
}

func skewFindings(s *snapshot.Snapshot, opts Options) ([]finding.Finding, error) {
	cur, ok := serverVersion(s)
	if !ok {
		return nil, nil
	}
	t, err := Data()
	if err != nil {
		return nil, err
	}
	tgt := target(s, opts, t)
	var out []finding.Finding
	for _, o := range s.Objects {
		if o.GetKind() != "Node" || o.GroupVersionKind().Group != "" {
			continue
		}
		raw, _, _ := unstructured.NestedString(o.Object, "status", "nodeInfo", "kubeletVersion")
		if raw == "" {
			continue
		}
		kv, err := ParseVersion(raw)
		if err != nil {
			out = append(out, finding.Finding{Check: KubeletSkewCheck, Severity: finding.Low, Object: finding.ObjectOf(o),
				Message: fmt.Sprintf("node %s reports kubelet version %q, which shipshape cannot read", o.GetName(), raw)})
			continue
		}
		f := finding.Finding{Check: KubeletSkewCheck, Object: finding.ObjectOf(o), DocsURL: versionSkewDocsURL}
		switch {
		case kv.Minor > cur.Minor:
			f.Severity = finding.High
			f.Message = fmt.Sprintf("node %s runs kubelet %s, newer than the API server's %s; kubelets must never be newer", o.GetName(), raw, cur)
			f.Remediation = sentence("upgrade the control plane first, or downgrade this node's kubelet")
		case cur.Minor-kv.Minor > kubeletSkew(cur):
			f.Severity = finding.High
			f.Message = fmt.Sprintf("node %s runs kubelet %s, %d minors behind the API server's %s (at most %d allowed)", o.GetName(), raw, cur.Minor-kv.Minor, cur, kubeletSkew(cur))
			f.Remediation = sentence("upgrade or replace this node now")
		case tgt.Minor-kv.Minor > kubeletSkew(tgt):
			f.Severity = finding.Medium
			f.Message = fmt.Sprintf("node %s runs kubelet %s, %d minors behind the target %s (at most %d allowed)", o.GetName(), raw, tgt.Minor-kv.Minor, tgt, kubeletSkew(tgt))
			f.Remediation = sentence(fmt.Sprintf("upgrade this node to at least %s before the control plane goes to %s", Version{tgt.Minor - kubeletSkew(tgt)}, tgt))
		default:
			continue
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Message < out[j].Message })
	return out, nil
}
