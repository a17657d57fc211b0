package upgrade

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/upgrade/internal/apigen"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		bad  bool
	}{
		{in: "1.37", want: 37},
		{in: "v1.37.2", want: 37},
		{in: "v1.28.3-eks-1234", want: 28},
		{in: "1.28+", want: 28},
		{in: "2.0", bad: true},
		{in: "1", bad: true},
		{in: "1.x", bad: true},
		{in: "", bad: true},
	} {
		got, err := ParseVersion(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("ParseVersion(%q) error = %v, want error %v", tc.in, err, tc.bad)
			continue
		}
		if !tc.bad && got.Minor != tc.want {
			t.Errorf("ParseVersion(%q) = %v, want 1.%d", tc.in, got, tc.want)
		}
	}
}

// TestDataNeverFlagsGA guards against the mistake one peer's generator makes:
// a stable version such as networking.k8s.io/v1 must never be in the table.
func TestDataNeverFlagsGA(t *testing.T) {
	tab, err := Data()
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.APIs()) < 100 {
		t.Fatalf("table has %d rows, want the full history", len(tab.APIs()))
	}
	for _, a := range tab.APIs() {
		v := a.APIVersion[strings.LastIndex(a.APIVersion, "/")+1:]
		if !strings.Contains(v, "alpha") && !strings.Contains(v, "beta") {
			t.Errorf("GA version in the table: %+v", a)
		}
		if a.Removed == "" && a.Deprecated == "" {
			t.Errorf("row with neither deprecation nor removal: %+v", a)
		}
	}
	for _, ga := range [][2]string{{"networking.k8s.io/v1", "NetworkPolicy"}, {"policy/v1", "PodDisruptionBudget"}, {"rbac.authorization.k8s.io/v1", "ClusterRole"}, {"apps/v1", "Deployment"}, {"v1", "Pod"}} {
		if a, ok := tab.Lookup(ga[0], ga[1]); ok {
			t.Errorf("GA %s %s is in the table: %+v", ga[0], ga[1], a)
		}
	}
	if tab.Newest().Minor != 37 {
		t.Errorf("newest = %v, want 1.37 (k8s.io/api v0.37.2)", tab.Newest())
	}
}

// TestDataMatchesReference compares the generated table with the reference
// table ../shared/reference/deprecated-apis.csv, which was made independently
// from the same markers: the first release that no longer serves each row
// (the removed marker, or the release after the type vanished from
// k8s.io/api if earlier) must agree.
func TestDataMatchesReference(t *testing.T) {
	path := filepath.Join(sharedDir(t), "reference", "deprecated-apis.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("reference table absent: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Data()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	checked := 0
	for _, r := range rows[1:] {
		av, kind := r[col["apiVersion"]], r[col["kind"]]
		want := r[col["removed_marker"]]
		if last := r[col["last_k8s_io_api_minor_with_type"]]; last != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(last, "1."))
			if err != nil {
				t.Fatalf("%s %s: last minor %q", av, kind, last)
			}
			if gone := "1." + strconv.Itoa(n+1); n < 37 && (want == "" || apigen.MinorOf(gone) < apigen.MinorOf(want)) {
				want = gone
			}
		}
		a, ok := tab.Lookup(av, kind)
		if !ok {
			t.Errorf("%s %s (reference: not served from %s) missing from the table", av, kind, want)
			continue
		}
		checked++
		if a.Removed != want {
			t.Errorf("%s %s: table says not served from %q, reference %q", av, kind, a.Removed, want)
		}
		if d := r[col["deprecated"]]; d != "" && a.Deprecated != d {
			t.Errorf("%s %s: table says deprecated in %q, reference %q", av, kind, a.Deprecated, d)
		}
	}
	if checked < 80 {
		t.Errorf("compared %d rows, want the whole reference", checked)
	}
}

// TestDataUpToDate regenerates the table from the module cache and compares
// it with the embedded file. It skips when the cache lacks a version (the
// generator's doc comment says how to download them); it never downloads.
func TestDataUpToDate(t *testing.T) {
	var f apigen.File
	tab, err := parseFile(apisJSON, &f)
	if err != nil || tab == nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	mods, missing := apigen.Modules(strings.TrimSpace(string(out)), f.Modules)
	if len(missing) > 0 {
		t.Skipf("k8s.io/api versions not in the module cache: %s", strings.Join(missing, ", "))
	}
	if diff := cmp.Diff(apigen.DefaultVersions(), f.Modules); diff != "" {
		t.Errorf("apis.json was generated from other versions than the generator's defaults (-default +file):\n%s", diff)
	}
	got, err := apigen.Generate(mods)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, apisJSON) {
		t.Errorf("apis.json is stale; run go generate ./internal/upgrade (diff -embedded +generated):\n%s",
			cmp.Diff(strings.Split(string(apisJSON), "\n"), strings.Split(string(got), "\n")))
	}
}

// sharedDir is the folder beside the repository that holds the corpus and
// reference data, or SHIPSHAPE_CORPUS when set.
func sharedDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("SHIPSHAPE_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared")
}
