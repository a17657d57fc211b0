package upgrade

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func corpusDir(tb testing.TB, name string) string {
	tb.Helper()
	dir := filepath.Join(sharedDir(tb), name)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		tb.Skipf("corpus %s not present", dir)
	}
	return dir
}

// referenceRemovedBy reads the reference CSV and returns the apiVersion/kind
// pairs that the given minor no longer serves: an oracle independent of the
// embedded table.
func referenceRemovedBy(t *testing.T, minor int) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedDir(t), "reference", "deprecated-apis.csv"))
	if err != nil {
		t.Skipf("reference table absent: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	// The CSV holds the marker-era rows; the reference's Markdown table adds
	// the one pre-marker kind below (served until 1.8).
	out := map[string]bool{"extensions/v1beta1 ThirdPartyResource": minor >= 8}
	for _, r := range rows[1:] {
		until := 1 << 30
		if m := r[col["removed_marker"]]; m != "" {
			until, _ = strconv.Atoi(strings.TrimPrefix(m, "1."))
		}
		if last, err := strconv.Atoi(strings.TrimPrefix(r[col["last_k8s_io_api_minor_with_type"]], "1.")); err == nil && last < 37 {
			until = min(until, last+1)
		}
		if minor >= until {
			out[r[col["apiVersion"]]+" "+r[col["kind"]]] = true
		}
	}
	return out
}

// TestCorpusRemovedAt137 scans the 1,803-file corpus for 1.37: every object
// whose apiVersion 1.37 does not serve (by the reference table) is found at
// its file and line, nothing else is reported as removed, and no GA
// apiVersion is reported at all.
func TestCorpusRemovedAt137(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the corpus")
	}
	dir := corpusDir(t, "corpus")
	removed := referenceRemovedBy(t, 37)
	ctx := context.Background()
	snap, err := manifest.Read(ctx, []string{dir}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := run(t, snap, Options{Target: Version{37}})

	want := map[string]bool{}
	for _, o := range snap.Objects {
		if removed[o.GetAPIVersion()+" "+o.GetKind()] {
			want[o.Origin.String()+" "+o.GetAPIVersion()+" "+o.GetKind()] = true
		}
	}
	got := map[string]bool{}
	deprecated := 0
	for _, f := range fs {
		if f.Object != nil {
			if v := f.Object.APIVersion[strings.LastIndex(f.Object.APIVersion, "/")+1:]; !strings.Contains(v, "alpha") && !strings.Contains(v, "beta") {
				t.Errorf("GA apiVersion reported: %s: %s", f.Where(), f.Message)
			}
		}
		switch f.Check {
		case RemovedCheck:
			if f.Location == nil || f.Location.Line == 0 || f.Object == nil {
				t.Errorf("removed-api finding without file:line and object: %+v", f)
				continue
			}
			got[f.Location.String()+" "+f.Object.APIVersion+" "+f.Object.Kind] = true
		case DeprecatedCheck:
			deprecated++
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("not reported: %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("reported but 1.37 serves it: %s", k)
		}
	}
	if len(want) == 0 {
		t.Fatal("the corpus has no removed APIs: wrong corpus?")
	}
	t.Logf("corpus: %d objects, %d invalid documents; removed by 1.37: %d (reference %d); deprecated but served: %d",
		len(snap.Objects), len(snap.Invalid), len(got), len(want), deprecated)
}

// TestCorpusMalformed: broken files are reported, not fatal, and the rest
// of each file is still judged.
func TestCorpusMalformed(t *testing.T) {
	dir := corpusDir(t, "corpus-malformed")
	snap, err := manifest.Read(context.Background(), []string{dir}, manifest.Options{})
	if err != nil {
		t.Fatalf("a malformed file stopped the run: %v", err)
	}
	if len(snap.Invalid) == 0 {
		t.Fatal("no invalid documents reported for corpus-malformed")
	}
	fs := run(t, snap, Options{Target: Version{37}})
	inv, err := finding.InvalidDocument().Run(context.Background(), snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range inv {
		if f.Location == nil || f.Location.Line == 0 {
			t.Errorf("invalid document without file:line: %+v", f)
		}
	}
	t.Logf("corpus-malformed: %d objects, %d invalid documents, %d upgrade findings", len(snap.Objects), len(inv), len(fs))
}

// run runs every upgrade check.
func run(t testing.TB, s *snapshot.Snapshot, opts Options) []finding.Finding {
	t.Helper()
	var out []finding.Finding
	for _, c := range Checks(opts) {
		fs, err := c.Run(context.Background(), s)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		out = append(out, fs...)
	}
	finding.Sort(out)
	return out
}
