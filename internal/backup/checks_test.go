package backup

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func run(t *testing.T, c finding.Check, s *snapshot.Snapshot) []finding.Finding {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	fs, err := c.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestFreshnessCheck(t *testing.T) {
	_, r := testKey(t)
	dir := t.TempDir()
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if _, err := Write(context.Background(), testSnapshot(t), WriteOptions{Out: filepath.Join(dir, "nightly"), Recipients: []Recipient{r}, Now: func() time.Time { return created }}); err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(dir, "nightly", ManifestFile)
	if err := os.Chtimes(mf, created, created); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".nightly.partial-x"), 0o755); err != nil {
		t.Fatal(err)
	}
	live := testSnapshot(t)
	for _, tc := range []struct {
		name string
		dir  string
		now  time.Time
		want string
	}{
		{"fresh", dir, created.Add(2 * time.Hour), ""},
		{"stale", dir, created.Add(49 * time.Hour), "49h0m0s old"},
		{"empty dir", t.TempDir(), created, "no complete shipshape backup"},
		{"missing dir", filepath.Join(dir, "nope"), created, "cannot read --backup-dir"},
		{"no dir given", "", created, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := run(t, FreshnessCheck(tc.dir, 48*time.Hour, func() time.Time { return tc.now }), live)
			switch {
			case tc.want == "" && len(fs) > 0:
				t.Errorf("unexpected findings %v", fs)
			case tc.want != "" && (len(fs) != 1 || !strings.Contains(fs[0].Message, tc.want)):
				t.Errorf("findings %v, want one saying %q", fs, tc.want)
			}
		})
	}
}

func TestMissingReferenceCheck(t *testing.T) {
	s := testSnapshot(t,
		"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\nspec: {template: {spec: {volumes: [{name: c, configMap: {name: gone}}, {name: o, secret: {secretName: maybe, optional: true}}], containers: [{name: db, image: pg, env: [{name: P, valueFrom: {secretKeyRef: {name: lost, key: p}}}]}]}}}",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: db-0, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: x, controller: true}]}\nspec: {containers: [{name: db, image: pg, env: [{name: P, valueFrom: {secretKeyRef: {name: lost, key: p}}}]}]}",
	)
	fs := run(t, MissingReferenceCheck(), s)
	var got []string
	for _, f := range fs {
		got = append(got, f.Object.String()+": "+f.Message)
	}
	want := []string{
		"shop/StatefulSet/db: pod template needs ConfigMap gone (volume c), which does not exist",
		"shop/StatefulSet/db: pod template needs Secret lost (container db env P), which does not exist",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	s.Gaps = []snapshot.Gap{{Source: "secrets", Reason: "forbidden"}, {Source: "configmaps", Reason: "forbidden"}}
	if fs := run(t, MissingReferenceCheck(), s); len(fs) != 0 {
		t.Errorf("judged references to resources it could not list: %v", fs)
	}
}

func TestSealedSecretsKeyCheck(t *testing.T) {
	_, r := testKey(t)
	sealed := "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: shop, uid: ss1}\nspec: {encryptedData: {p: AgB}}"
	key := "apiVersion: v1\nkind: Secret\nmetadata: {name: sealed-secrets-key1, namespace: kube-system, uid: k1, labels: {sealedsecrets.bitnami.com/sealed-secrets-key: active}}\ndata: {tls.key: eA==}"
	without, with := t.TempDir(), t.TempDir()
	if _, err := Write(context.Background(), testSnapshot(t, sealed), WriteOptions{Out: filepath.Join(without, "b"), Recipients: []Recipient{r}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(context.Background(), testSnapshot(t, sealed, key), WriteOptions{Out: filepath.Join(with, "b"), Recipients: []Recipient{r}}); err != nil {
		t.Fatal(err)
	}
	live := testSnapshot(t, sealed)
	if fs := run(t, SealedSecretsKeyCheck(without), live); len(fs) != 1 || !strings.Contains(fs[0].Message, "no sealed-secrets controller key") {
		t.Errorf("without key: %v", fs)
	}
	if fs := run(t, SealedSecretsKeyCheck(with), live); len(fs) != 0 {
		t.Errorf("with key: %v", fs)
	}
	if fs := run(t, SealedSecretsKeyCheck(without), testSnapshot(t)); len(fs) != 0 {
		t.Errorf("no SealedSecrets: %v", fs)
	}
}
