package cli

import (
	"runtime/debug"
	"testing"
)

func TestBatchGCRestoresDefault(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	restore := batchGC()
	during := debug.SetGCPercent(batchGCPercent) // read it back (and keep it)
	restore()
	after := debug.SetGCPercent(100)
	if during != batchGCPercent || after != 100 {
		t.Fatalf("GC percent during %d, after %d; want %d then 100", during, after, batchGCPercent)
	}
}

func TestBatchGCLeavesGOGCAlone(t *testing.T) {
	t.Setenv("GOGC", "150")
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	batchGC()()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("GC percent %d, want GOGC's 150 untouched", got)
	}
}
