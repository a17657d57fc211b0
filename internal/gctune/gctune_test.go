package gctune

import (
	"runtime/debug"
	"testing"
)

func TestBatchRestoresDefault(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	restore := Batch()
	during := debug.SetGCPercent(Percent) // read it back (and keep it)
	restore()
	after := debug.SetGCPercent(100)
	if during != Percent || after != 100 {
		t.Fatalf("GC percent during %d, after %d; want %d then 100", during, after, Percent)
	}
}

func TestBatchLeavesGOGCAlone(t *testing.T) {
	t.Setenv("GOGC", "150")
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	Batch()()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("GC percent %d, want GOGC's 150 untouched", got)
	}
}
