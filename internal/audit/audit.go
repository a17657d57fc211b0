// Package audit holds shipshape's hardening checks: the workload checks of
// the NSA/CISA Kubernetes Hardening Guidance and the Pod Security Standards,
// run over every pod-bearing kind and every container (init and ephemeral
// included), and the namespace hygiene checks (quotas, limit ranges, network
// policies, priority classes).
//
// Each check judges the effective value Kubernetes applies when a field is
// unset, and says so in its Doc. Checks read unstructured objects directly,
// so that an audit of a large estate stays fast. Like every capability
// package it judges and never prints or fetches; the RBAC checks live in
// internal/audit/rbac and exemptions in internal/audit/exempt.
package audit

import (
	"context"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Check IDs of the workload checks.
const (
	ReadOnlyRootFSCheck      = "audit/read-only-root-fs"
	AutomountTokenCheck      = "audit/automount-token"
	PrivilegeEscalationCheck = "audit/privilege-escalation"
	PrivilegedCheck          = "audit/privileged"
	CapabilitiesCheck        = "audit/capabilities"
	RunAsNonRootCheck        = "audit/run-as-non-root"
	HostNamespacesCheck      = "audit/host-namespaces"
	HostPortCheck            = "audit/host-port"
	HostPathCheck            = "audit/host-path"
	ProcMountCheck           = "audit/proc-mount"
	SeccompCheck             = "audit/seccomp"
	AppArmorSELinuxCheck     = "audit/apparmor-selinux"
	ResourcesCheck           = "audit/resources"
	ImageTagCheck            = "audit/image-tag"
	ProbesCheck              = "audit/probes"
	DisruptionBudgetCheck    = "audit/disruption-budget"
	SecretEnvCheck           = "audit/secret-env"
)

// Check IDs of the namespace checks.
const (
	NamespaceQuotaCheck         = "audit/namespace-quota"
	NamespaceNetworkPolicyCheck = "audit/namespace-network-policy"
	NamespacePriorityCheck      = "audit/namespace-priority"
)

// docsURL is where docs/audit.md is published.
const docsURL = "https://github.com/shipshape-dev/shipshape/blob/main/docs/audit.md"

// Standard maps a check to the standards it enforces.
type Standard struct {
	// PSS is the Pod Security Standards level that requires it: "baseline",
	// "restricted" or "" (not part of the standards).
	PSS string
	// NSA names the NSA/CISA Kubernetes Hardening Guidance recommendation.
	NSA string
}

// Standards returns the standards mapping of every audit check, by check ID.
// The same text opens each check's Doc.
func Standards() map[string]Standard {
	out := map[string]Standard{}
	for _, d := range definitions() {
		out[d.check.ID] = d.std
	}
	return out
}

type definition struct {
	check finding.Check
	std   Standard
}

// Checks returns the workload and namespace checks.
func Checks() []finding.Check {
	defs := definitions()
	out := make([]finding.Check, 0, len(defs))
	for _, d := range defs {
		c := d.check
		c.Doc = standardLine(d.std) + "\n\n" + c.Doc
		c.DocsURL = docsURL
		out = append(out, c)
	}
	return out
}

func standardLine(s Standard) string {
	pss := "not part of the Pod Security Standards"
	if s.PSS != "" {
		pss = "Pod Security Standards: " + s.PSS
	}
	return pss + ". NSA/CISA: " + s.NSA + "."
}

// perWorkload turns a per-workload judgement into a check's Run function.
func perWorkload(judge func(w workload, ctx *auditContext, emit func(finding.Finding))) func(context.Context, *snapshot.Snapshot) ([]finding.Finding, error) {
	return func(ctx context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
		ac := newAuditContext(s)
		ls := layouts()
		var out []finding.Finding
		emit := func(f finding.Finding) { out = append(out, f) }
		for i, o := range s.Objects {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			w, ok := workloadIn(o, ls)
			if !ok || owned(w) {
				continue
			}
			judge(w, ac, emit)
		}
		return out, nil
	}
}

// newFinding fills in a finding about the workload.
func (w workload) finding(check string, sev finding.Severity, msg, fix string) finding.Finding {
	return finding.Finding{
		Check:       check,
		Severity:    sev,
		Message:     msg,
		Remediation: fix,
		Object:      finding.ObjectOf(w.obj),
		Location:    finding.LocationOf(w.obj),
	}
}
