package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Check IDs of the disaster-readiness checks.
const (
	FreshnessCheckID        = "backup/freshness"
	MissingReferenceCheckID = "backup/missing-reference"
	SealedSecretsKeyCheckID = "backup/sealed-secrets-key"
)

// Checks returns the disaster-readiness checks. dir is scan's --backup-dir
// (a backup, or a directory holding backups as subdirectories or .tar.gz
// files) and maxAge its --max-backup-age; with dir empty the two checks
// that need it report nothing. now is the clock (nil means time.Now).
func Checks(dir string, maxAge time.Duration, now func() time.Time) []finding.Check {
	if now == nil {
		now = time.Now
	}
	return []finding.Check{
		FreshnessCheck(dir, maxAge, now),
		MissingReferenceCheck(),
		SealedSecretsKeyCheck(dir),
	}
}

// FreshnessCheck reports when dir holds no complete backup newer than maxAge.
func FreshnessCheck(dir string, maxAge time.Duration, now func() time.Time) finding.Check {
	return finding.Check{
		ID:       FreshnessCheckID,
		Title:    "A recent backup exists in --backup-dir",
		Severity: finding.High,
		Doc: `Looks in --backup-dir for shipshape backups (the directory itself, its subdirectories and
its .tar.gz files) and reports when none is complete (has manifest.yaml) and newer than
--max-backup-age. A backup's age is the later of the time in its manifest and the modification
time of its manifest (a run that finds nothing changed rewrites no byte but touches it). Without
--backup-dir the check reports nothing. Fix: run 'shipshape backup' on a schedule.`,
		Run: func(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
			if dir == "" || s.Source != snapshot.SourceCluster {
				return nil, nil
			}
			newest, where, err := newestBackup(dir)
			if err != nil {
				return []finding.Finding{{Check: FreshnessCheckID, Severity: finding.High,
					Message:     fmt.Sprintf("cannot read --backup-dir: %v", err),
					Remediation: "point --backup-dir at the directory backups are written to",
					Location:    &finding.Location{Path: dir}}}, nil
			}
			if where == "" {
				return []finding.Finding{{Check: FreshnessCheckID, Severity: finding.High,
					Message:     "no complete shipshape backup in " + dir,
					Remediation: "run 'shipshape backup --out DIR' on a schedule",
					Location:    &finding.Location{Path: dir}}}, nil
			}
			if age := now().Sub(newest); maxAge > 0 && age > maxAge {
				return []finding.Finding{{Check: FreshnessCheckID, Severity: finding.High,
					Message:     fmt.Sprintf("the newest backup is %s old, more than --max-backup-age %s", age.Truncate(time.Minute), maxAge),
					Remediation: "check the scheduled backup job; run 'shipshape backup' now",
					Location:    &finding.Location{Path: where}}}, nil
			}
			return nil, nil
		},
	}
}

// newestBackup returns the time and path of the newest complete backup at or under dir.
func newestBackup(dir string) (time.Time, string, error) {
	candidates := []string{dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return time.Time{}, "", err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // partial backups and .git
		}
		candidates = append(candidates, filepath.Join(dir, e.Name()))
	}
	var best time.Time
	var where string
	for _, c := range candidates {
		t, ok := backupTime(c)
		if ok && t.After(best) {
			best, where = t, c
		}
	}
	return best, where, nil
}

// backupTime is when the backup at p was last confirmed: its manifest's time
// or modification time, whichever is later; ok is false when p is not a
// complete backup.
func backupTime(p string) (time.Time, bool) {
	fi, err := os.Stat(p)
	if err != nil {
		return time.Time{}, false
	}
	if !fi.IsDir() {
		if !isTarball(p) {
			return time.Time{}, false
		}
		return fi.ModTime(), true // written whole and renamed into place
	}
	mp := filepath.Join(p, ManifestFile)
	mfi, err := os.Stat(mp)
	if err != nil {
		return time.Time{}, false
	}
	t := mfi.ModTime()
	raw, err := os.ReadFile(mp)
	if err != nil {
		return time.Time{}, false
	}
	m, ok := decodeManifestQuick(raw)
	if !ok {
		m = &Manifest{}
		if yaml.Unmarshal(raw, m) != nil {
			return time.Time{}, false
		}
	}
	if m.Format != FormatVersion {
		return time.Time{}, false
	}
	if m.Created.After(t) {
		t = m.Created
	}
	return t, true
}

// MissingReferenceCheck reports pod templates of a live cluster that need a
// Secret or ConfigMap that does not exist.
func MissingReferenceCheck() finding.Check {
	return finding.Check{
		ID:       MissingReferenceCheckID,
		Title:    "Pod templates reference Secrets or ConfigMaps that do not exist",
		Severity: finding.Medium,
		Doc: `Reports workloads (Pods without a controller, Deployments, StatefulSets, DaemonSets,
ReplicaSets, Jobs, CronJobs, ReplicationControllers) of a live cluster whose pod template needs a
Secret or ConfigMap (volume, env, envFrom, imagePullSecrets; optional references aside) that does not
exist in the namespace. Such a pod cannot start, and a restore from a backup would fail the same way:
the data is already lost. Resources that could not be listed are not judged. Files are not judged,
since their Secrets usually come from elsewhere.`,
		Run: func(_ context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
			if s.Source != snapshot.SourceCluster {
				return nil, nil
			}
			listed := map[string]bool{"Secret": true, "ConfigMap": true}
			for _, g := range s.Gaps {
				switch g.Source {
				case "secrets":
					listed["Secret"] = false
				case "configmaps":
					listed["ConfigMap"] = false
				}
			}
			present := map[string]bool{}
			for _, o := range s.Objects {
				if o.GroupVersionKind().Group == "" {
					present[ref{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}.key()] = true
				}
			}
			var out []finding.Finding
			for _, o := range s.Objects {
				if skipReason(o.Unstructured, false, nil) == "controller-owned" {
					continue
				}
				seen := map[string]bool{}
				for _, r := range podRefs(o.Unstructured) {
					if (r.Kind != "Secret" && r.Kind != "ConfigMap") || !listed[r.Kind] || present[r.key()] || seen[r.key()] {
						continue
					}
					seen[r.key()] = true
					out = append(out, finding.Finding{
						Check: MissingReferenceCheckID, Severity: finding.Medium,
						Message:     fmt.Sprintf("pod template needs %s %s (%s), which does not exist", r.Kind, r.Name, r.Where),
						Remediation: fmt.Sprintf("create the %s from its source of truth (or restore it from a backup), or mark the reference optional", r.Kind),
						Object:      finding.ObjectOf(o), Location: finding.LocationOf(o),
					})
				}
			}
			finding.Sort(out)
			return out, nil
		},
	}
}

// SealedSecretsKeyCheck reports SealedSecrets in a live cluster when the
// newest backup in dir holds no sealed-secrets controller key.
func SealedSecretsKeyCheck(dir string) finding.Check {
	return finding.Check{
		ID:       SealedSecretsKeyCheckID,
		Title:    "SealedSecrets whose controller key is not in the backup",
		Severity: finding.High,
		Doc: `When the cluster holds SealedSecrets (bitnami.com), reports whether the newest backup in
--backup-dir holds the sealed-secrets controller's key (a Secret labelled
sealedsecrets.bitnami.com/sealed-secrets-key). Without that key no SealedSecret can be unsealed after
a rebuild: every such secret is lost. Without --backup-dir the check reports nothing.
Fix: back up with Secrets included (not --exclude-secrets) and make sure the key Secret is readable.`,
		Run: func(ctx context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
			if dir == "" || s.Source != snapshot.SourceCluster {
				return nil, nil
			}
			var sealed []snapshot.Object
			for _, o := range s.Objects {
				if o.GroupVersionKind().Group == "bitnami.com" && o.GetKind() == "SealedSecret" {
					sealed = append(sealed, o)
				}
			}
			if len(sealed) == 0 {
				return nil, nil
			}
			_, where, err := newestBackup(dir)
			hasKey := false
			if err == nil && where != "" {
				if t, lerr := Load(ctx, where, Options{}); lerr == nil {
					for _, it := range t.Items {
						if it.Object.GetKind() == "Secret" && it.Object.GetLabels()[SealedSecretsKeyLabel] != "" {
							hasKey = true
						}
					}
				}
			}
			if hasKey {
				return nil, nil
			}
			if where == "" {
				where = dir
			}
			sort.Slice(sealed, func(i, j int) bool {
				return sealed[i].GetNamespace()+"/"+sealed[i].GetName() < sealed[j].GetNamespace()+"/"+sealed[j].GetName()
			})
			return []finding.Finding{{
				Check: SealedSecretsKeyCheckID, Severity: finding.High,
				Message:     fmt.Sprintf("%d SealedSecrets (first %s/%s) but the backup %s holds no sealed-secrets controller key", len(sealed), sealed[0].GetNamespace(), sealed[0].GetName(), where),
				Remediation: "back up the Secrets labelled " + SealedSecretsKeyLabel + " (shipshape backup without --exclude-secrets)",
				Location:    &finding.Location{Path: where},
			}}, nil
		},
	}
}
