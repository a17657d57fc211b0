package certs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRenewRoundTrip renews a kubeadm PKI whose etcd server certificate was
// issued for one year among three-year siblings and whose scheduler
// certificate expires in five days, then scans it again.
func TestRenewRoundTrip(t *testing.T) {
	l := writeLayout(t, func(name string, s *spec, _ **issued) {
		switch name {
		case "etcd/server":
			s.lifetime = 365 * Day
		case "scheduler.conf":
			s.notBefore = now.Add(-threeYears + 5*Day)
		}
	})
	before := readRoot(t, l.root)
	if fs := Judge(before, DefaultPolicy(), now); len(fs) != 2 {
		t.Fatalf("before renewal: %v, want the lifetime and the expiry finding", briefs(l.root, fs))
	}
	sans := func(inv *Inventory) map[string]string {
		m := map[string]string{}
		for _, c := range inv.Certs {
			m[c.Name] = strings.Join(c.DNSNames, ",") + "|" + ipStrings(c) + "|" + c.Subject.String()
		}
		return m
	}
	if !strings.Contains(sans(before)["apiserver"], "spiffe://") || !strings.Contains(sans(before)["apiserver"], "OU=control-plane") {
		t.Fatalf("the fixture's apiserver certificate lacks its URI SAN or OU: %s", sans(before)["apiserver"])
	}
	oldAPIServer, err := os.ReadFile(filepath.Join(l.root, "etc/kubernetes/pki/apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}

	later := now.Add(time.Hour)
	dry, err := Renew(RenewOptions{Root: l.root, DryRun: true, Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Validity != threeYears || !strings.Contains(dry.ValidityFrom, "most common lifetime") {
		t.Errorf("validity %v from %q, want three years from the siblings", dry.Validity, dry.ValidityFrom)
	}
	if data, _ := os.ReadFile(filepath.Join(l.root, "etc/kubernetes/pki/apiserver.crt")); string(data) != string(oldAPIServer) {
		t.Fatal("a dry run changed a file")
	}

	res, err := Renew(RenewOptions{Root: l.root, Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renewed) != 11 {
		t.Errorf("renewed %d certificates, want 11", len(res.Renewed))
	}
	if diff := cmp.Diff([]string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}, res.Restart); diff != "" {
		t.Errorf("restart (-want +got):\n%s", diff)
	}
	after := readRoot(t, l.root)
	if fs := Judge(after, DefaultPolicy(), later); len(fs) != 0 {
		t.Errorf("after renewal: %v", briefs(l.root, fs))
	}
	if diff := cmp.Diff(sans(before), sans(after)); diff != "" {
		t.Errorf("subjects or SANs changed (-before +after):\n%s", diff)
	}
	backup, err := os.ReadFile(filepath.Join(res.BackupDir, "etc/kubernetes/pki/apiserver.crt"))
	if err != nil || string(backup) != string(oldAPIServer) {
		t.Errorf("the backup does not hold the old apiserver.crt: %v", err)
	}
	if _, err := os.Stat(filepath.Join(res.BackupDir, "etc/kubernetes/admin.conf")); err != nil {
		t.Errorf("admin.conf not backed up: %v", err)
	}
	fi, err := os.Stat(filepath.Join(l.root, "etc/kubernetes/pki/apiserver.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("apiserver.key mode %v, %v; want 0600 kept", fi.Mode(), err)
	}
}

func TestRenewValidityIsNeverGuessed(t *testing.T) {
	l := writeLayout(t, func(name string, s *spec, _ **issued) {
		// Lifetimes spread so that no two agree.
		switch name {
		case "apiserver":
			s.lifetime = 100 * Day
		case "apiserver-kubelet-client":
			s.lifetime = 200 * Day
		case "front-proxy-client":
			s.lifetime = 300 * Day
		case "etcd/server":
			s.lifetime = 400 * Day
		case "etcd/peer":
			s.lifetime = 500 * Day
		case "etcd/healthcheck-client":
			s.lifetime = 600 * Day
		case "apiserver-etcd-client":
			s.lifetime = 700 * Day
		case "admin.conf":
			s.lifetime = 800 * Day
		case "super-admin.conf":
			s.lifetime = 900 * Day
		case "controller-manager.conf":
			s.lifetime = 1000 * Day
		case "scheduler.conf":
			s.lifetime = 1100 * Day
		}
	})
	_, err := Renew(RenewOptions{Root: l.root, Now: func() time.Time { return now }})
	if err == nil || !strings.Contains(err.Error(), "--validity") {
		t.Fatalf("err = %v, want a request for --validity", err)
	}
	// The CA's NotAfter caps the flag.
	res, err := Renew(RenewOptions{Root: l.root, Only: []string{"apiserver"}, Validity: 20 * 365 * Day, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renewed) != 1 || !res.Renewed[0].Capped || !res.Renewed[0].NewNotAfter.Equal(l.ca.cert.NotAfter) || res.ValidityFrom != "--validity" {
		t.Errorf("renewed %+v from %q, want apiserver capped at the CA's NotAfter", res.Renewed, res.ValidityFrom)
	}
}

func ipStrings(c Cert) string {
	var s []string
	for _, ip := range c.IPAddresses {
		s = append(s, ip.String())
	}
	for _, u := range c.URIs {
		s = append(s, u.String())
	}
	return strings.Join(append(s, c.EmailAddresses...), ",")
}
