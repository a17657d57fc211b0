package yamledit

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/golden"
)

func TestDiffEqual(t *testing.T) {
	if d := Diff("x", []byte("a\nb\n"), []byte("a\nb\n")); d != "" {
		t.Errorf("diff of equal texts = %q", d)
	}
}

func TestDiffGolden(t *testing.T) {
	var old, new strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&old, "line %d\n", i)
		switch i {
		case 2:
			new.WriteString("line 2 changed\n")
		case 10:
			// deleted
		case 20:
			fmt.Fprintf(&new, "line %d\ninserted after 20\n", i)
		default:
			fmt.Fprintf(&new, "line %d\n", i)
		}
	}
	golden.Check(t, "diff/hunks.diff", []byte(Diff("f.yaml", []byte(old.String()), []byte(new.String()))))
	golden.Check(t, "diff/no-newline.diff", []byte(Diff("f.yaml", []byte("a\nb\nc"), []byte("a\nb\nc\n"))))
	golden.Check(t, "diff/from-empty.diff", []byte(Diff("f.yaml", nil, []byte("a\nb\n"))))
}

// applyDiff applies a unified diff made by Diff to old, checking the hunk
// headers and context on the way.
func applyDiff(t *testing.T, old, diff string) string {
	t.Helper()
	a := splitLines(old)
	lines := strings.SplitAfter(diff, "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "--- ") || !strings.HasPrefix(lines[1], "+++ ") {
		t.Fatalf("no file headers in %q", diff)
	}
	var out []string
	pos := 0 // next line of a to copy
	var last *string
	for i := 2; i < len(lines) && lines[i] != ""; i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "@@ "):
			var as, al, bs, bl int
			parseRange := func(s string) (int, int) {
				start, n, ok := strings.Cut(s, ",")
				st, err := strconv.Atoi(start)
				if err != nil {
					t.Fatalf("bad hunk header %q", l)
				}
				if !ok {
					return st, 1
				}
				c, err := strconv.Atoi(n)
				if err != nil {
					t.Fatalf("bad hunk header %q", l)
				}
				return st, c
			}
			f := strings.Fields(l)
			as, al = parseRange(strings.TrimPrefix(f[1], "-"))
			bs, bl = parseRange(strings.TrimPrefix(f[2], "+"))
			if al > 0 {
				as--
			}
			if as < pos {
				t.Fatalf("hunks out of order at %q", l)
			}
			out = append(out, a[pos:as]...)
			pos = as
			if bl > 0 && len(out) != bs-1 {
				t.Fatalf("hunk %q starts at new line %d, want %d", l, len(out)+1, bs)
			}
			last = nil
		case l == "\\ No newline at end of file\n":
			if last == nil {
				t.Fatal("no-newline marker without a line")
			}
			*last = strings.TrimSuffix(*last, "\n")
		case l[0] == ' ' || l[0] == '-':
			if pos >= len(a) || strings.TrimSuffix(a[pos], "\n") != strings.TrimSuffix(l[1:], "\n") {
				t.Fatalf("context or removed line %q does not match old line %d", l, pos+1)
			}
			if l[0] == ' ' {
				out = append(out, l[1:])
				last = &out[len(out)-1]
			} else {
				s := ""
				last = &s
			}
			pos++
		case l[0] == '+':
			out = append(out, l[1:])
			last = &out[len(out)-1]
		default:
			t.Fatalf("bad diff line %q", l)
		}
	}
	out = append(out, a[pos:]...)
	return strings.Join(out, "")
}

// TestDiffApplies: for random pairs of texts, applying the diff to the old
// text gives the new one, and equal texts give no diff.
func TestDiffApplies(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	words := []string{"a: 1", "b: 2", "c: 3", "- x", "- y", "", "# c"}
	text := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(words[r.Intn(len(words))])
			b.WriteByte('\n')
		}
		s := b.String()
		if r.Intn(4) == 0 {
			s = strings.TrimSuffix(s, "\n")
		}
		return s
	}
	for i := range 500 {
		old, new := text(r.Intn(40)), text(r.Intn(40))
		if i%3 == 0 && len(old) > 0 {
			// A small edit of old, the common case.
			new = strings.Replace(old, words[r.Intn(5)], "changed", 1)
		}
		d := Diff("f", []byte(old), []byte(new))
		if old == new {
			if d != "" {
				t.Fatalf("diff of equal texts: %q", d)
			}
			continue
		}
		if got := applyDiff(t, old, d); got != new {
			t.Fatalf("applying the diff gives %q, want %q\ndiff:\n%s", got, new, d)
		}
	}
}

// TestDiffMinimal: a one-line change gives one hunk with one - and one +.
func TestDiffMinimal(t *testing.T) {
	old := strings.Repeat("x: 1\n", 50) + "y: 2\n" + strings.Repeat("z: 3\n", 50)
	new := strings.Replace(old, "y: 2", "y: 3", 1)
	d := Diff("f", []byte(old), []byte(new))
	if strings.Count(d, "\n-y: 2\n") != 1 || strings.Count(d, "\n+y: 3\n") != 1 || strings.Count(d, "\n-") != 1 ||
		strings.Count(d, "\n+") != 2 || strings.Count(d, "@@ ") != 1 {
		t.Errorf("diff is not minimal:\n%s", d)
	}
	if !strings.Contains(d, "@@ -48,7 +48,7 @@\n") {
		t.Errorf("wrong hunk header:\n%s", d)
	}
}

// TestDiffLarge: texts further apart than maxEdits still give a diff that
// applies.
func TestDiffLarge(t *testing.T) {
	var old, new strings.Builder
	for i := range 3 * maxEdits {
		fmt.Fprintf(&old, "old %d\n", i)
		fmt.Fprintf(&new, "new %d\n", i)
	}
	o, n := "same\n"+old.String()+"end\n", "same\n"+new.String()+"end\n"
	d := Diff("big", []byte(o), []byte(n))
	if got := applyDiff(t, o, d); got != n {
		t.Fatal("applying the diff of large texts does not give the new text")
	}
}
