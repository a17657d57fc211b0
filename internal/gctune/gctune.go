// Package gctune tunes the garbage collector for shipshape's one-shot
// commands, which read a whole input into memory and then judge or write it.
package gctune

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Percent and Until tune the garbage collector for the
// one-shot commands that read their whole input into memory (scan, audit,
// upgrade, backup): while the heap is small, collecting five times less often saves
// a third of the wall time on a typical repository for a few MB more; once
// the heap passes Until the default returns, so large inputs keep the
// default peak memory. GOGC in the environment always wins.
const (
	Percent = 400
	Until   = 512 << 20
)

// Batch applies the batch tuning and returns the function that undoes it.
func Batch() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(Percent)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer debug.SetGCPercent(prev)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				metrics.Read(sample)
				if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > Until {
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
