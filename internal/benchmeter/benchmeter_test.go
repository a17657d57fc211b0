package benchmeter

import (
	"runtime"
	"testing"
)

var sink [][]byte

func TestPeakHeapSeesAnAllocation(t *testing.T) {
	runtime.GC()
	stop := PeakHeap()
	before := stop()
	stop = PeakHeap()
	for range 64 {
		sink = append(sink, make([]byte, 1<<20))
	}
	peak := stop()
	sink = nil
	if peak < before+32<<20 {
		t.Errorf("peak %.1f MiB, want at least 32 MiB over %.1f MiB", peak/(1<<20), before/(1<<20))
	}
}

func TestCPUCounts(t *testing.T) {
	since := CPU()
	x := 0
	for i := range 50_000_000 {
		x += i % 7
	}
	u, s := since()
	if u+s <= 0 || x == 0 {
		t.Errorf("user %v, sys %v after a busy loop: want some CPU time", u, s)
	}
}
