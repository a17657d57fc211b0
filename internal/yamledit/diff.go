package yamledit

import (
	"fmt"
	"strings"
)

// Diff returns a unified diff (3 lines of context) from old to new, both
// versions of the file path, or "" when they are equal. It is written here
// rather than taken from a module: Myers' algorithm on lines, a few dozen
// lines of code.
func Diff(path string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	a, b := splitLines(string(old)), splitLines(string(new))
	ops := lineDiff(a, b)
	var out strings.Builder
	fmt.Fprintf(&out, "--- a/%s\n+++ b/%s\n", path, path)
	const context = 3
	// ops: one per line of the edit script: ' ', '-' or '+'.
	i := 0
	for i < len(ops) {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// A hunk: from context lines before i to the last change that is
		// within 2*context lines of the next.
		start := max(0, i-context)
		end := i
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j
			} else if j-end > 2*context {
				break
			}
		}
		stop := min(len(ops), end+context+1)
		h := ops[start:stop]
		aStart, bStart := h[0].a, h[0].b
		aLen, bLen := 0, 0
		for _, op := range h {
			if op.kind != '+' {
				aLen++
			}
			if op.kind != '-' {
				bLen++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
		for _, op := range h {
			line := ""
			if op.kind == '+' {
				line = b[op.b]
			} else {
				line = a[op.a]
			}
			out.WriteByte(op.kind)
			out.WriteString(line)
			if !strings.HasSuffix(line, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = stop
	}
	return out.String()
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// diffOp is one line of an edit script; a and b are the line indexes in
// the old and new text before the line (or of the line, for its side).
type diffOp struct {
	kind byte
	a, b int
}

// maxEdits bounds the edit distance myers searches: its memory grows with
// the square of the distance. Beyond it the differing middle of the two
// texts is shown as removed and added as a whole: still a correct diff.
const maxEdits = 2000

// lineDiff returns an edit script from a to b: equal lines at both ends,
// and between them a shortest script (or, past maxEdits, a plain
// replacement).
func lineDiff(a, b []string) []diffOp {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []diffOp
	for i := range pre {
		ops = append(ops, diffOp{' ', i, i})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	mid, ok := myers(ma, mb)
	if !ok {
		mid = nil
		for i := range ma {
			mid = append(mid, diffOp{'-', i, 0})
		}
		for j := range mb {
			mid = append(mid, diffOp{'+', len(ma), j})
		}
	}
	for _, op := range mid {
		ops = append(ops, diffOp{op.kind, op.a + pre, op.b + pre})
	}
	for i := range suf {
		ops = append(ops, diffOp{' ', len(a) - suf + i, len(b) - suf + i})
	}
	return ops
}

// myers computes a shortest edit script from a to b (E. Myers, "An O(ND)
// Difference Algorithm and Its Variations", 1986), keeping each round's
// frontier to walk the path back. It gives up (false) past maxEdits.
func myers(a, b []string) ([]diffOp, bool) {
	// The last line may lack its newline; compare lines as written, so that
	// such a change shows.
	n, m := len(a), len(b)
	maxD := n + m
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	// trace[d] holds the frontier before round d, for diagonals -d-1..d+1.
	var trace [][]int
	found := false
	for dd := 0; dd <= maxD && !found; dd++ {
		if dd > maxEdits {
			return nil, false
		}
		trace = append(trace, append([]int(nil), v[off-dd-1:off+dd+2]...))
		for k := -dd; k <= dd; k += 2 {
			var x int
			if k == -dd || (k != dd && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	// Walk back from (n, m).
	var rev []diffOp
	x, y := n, m
	for dd := len(trace) - 1; dd >= 0; dd-- {
		vv := trace[dd]
		at := func(k int) int { return vv[k+dd+1] }
		k := x - y
		var prevK int
		if dd == 0 {
			for x > 0 && y > 0 {
				x--
				y--
				rev = append(rev, diffOp{' ', x, y})
			}
			break
		}
		if k == -dd || (k != dd && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, diffOp{' ', x, y})
		}
		if x == prevX {
			y--
			rev = append(rev, diffOp{'+', x, y})
		} else {
			x--
			rev = append(rev, diffOp{'-', x, y})
		}
	}
	ops := make([]diffOp, len(rev))
	for i := range rev {
		ops[i] = rev[len(rev)-1-i]
	}
	return ops, true
}
