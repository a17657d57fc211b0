package finding

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// TestEvaluateConcurrentDeterministic runs many checks whose findings tie
// under Compare (so the stable sort keeps the order they were gathered in)
// and some of which fail: the report must be the same on every run, in
// check order, with every check run exactly once.
func TestEvaluateConcurrentDeterministic(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Log("GOMAXPROCS is 1: checks run one after another")
	}
	var calls atomic.Int64
	var checks []Check
	for i := range 40 {
		checks = append(checks, Check{
			ID: fmt.Sprintf("test/c%02d", i), Title: "t", Doc: "d", Severity: Low,
			Run: func(context.Context, *snapshot.Snapshot) ([]Finding, error) {
				calls.Add(1)
				// Early checks yield longest, so that with two or more
				// workers they tend to finish after later ones.
				for range (40 - i) * 20 {
					runtime.Gosched()
				}
				if i%7 == 3 {
					return nil, errors.New("boom " + fmt.Sprint(i))
				}
				// Every finding ties under Compare; only Exemption (which
				// Compare ignores) tells them apart.
				var out []Finding
				for j := range i % 5 {
					out = append(out, Finding{Check: "test/same", Severity: Low, Message: "m", Exemption: fmt.Sprintf("%d.%d", i, j)})
				}
				return out, nil
			},
		})
	}
	s := &snapshot.Snapshot{Source: snapshot.SourceFiles}
	var want []string
	var wantWarnings []Warning
	for i := range 40 {
		if i%7 == 3 {
			wantWarnings = append(wantWarnings, Warning{Source: fmt.Sprintf("test/c%02d", i), Message: fmt.Sprintf("check failed: boom %d", i)})
			continue
		}
		for j := range i % 5 {
			want = append(want, fmt.Sprintf("%d.%d", i, j))
		}
	}
	for run := range 50 {
		calls.Store(0)
		r := Evaluate(context.Background(), s, checks)
		if n := calls.Load(); n != 40 {
			t.Fatalf("run %d: %d check calls, want 40", run, n)
		}
		var got []string
		for _, f := range r.Findings {
			got = append(got, f.Exemption)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("run %d: findings order (-want +got)\n%s", run, diff)
		}
		if !r.Partial {
			t.Fatalf("run %d: failed checks did not mark the report partial", run)
		}
		if diff := cmp.Diff(wantWarnings, r.Warnings); diff != "" {
			t.Fatalf("run %d: warnings (-want +got)\n%s", run, diff)
		}
		if r.Summary.Checks != 41 {
			t.Fatalf("run %d: %d checks counted, want 41 (with input/invalid-document)", run, r.Summary.Checks)
		}
	}
}

// TestEvaluateCancelled reports every check as not run once the context is
// cancelled, in check order.
func TestEvaluateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var checks []Check
	for i := range 5 {
		checks = append(checks, Check{ID: fmt.Sprintf("test/c%d", i), Title: "t", Doc: "d",
			Run: func(context.Context, *snapshot.Snapshot) ([]Finding, error) {
				t.Error("a check ran after cancellation")
				return nil, nil
			}})
	}
	r := Evaluate(ctx, &snapshot.Snapshot{}, checks)
	var got []string
	for _, w := range r.Warnings {
		got = append(got, w.Source+": "+w.Message)
	}
	want := []string{InvalidDocumentCheck + ": not run: context canceled"}
	for i := range 5 {
		want = append(want, fmt.Sprintf("test/c%d: not run: context canceled", i))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got)\n%s", diff)
	}
	if !r.Partial {
		t.Error("report not partial")
	}
}
