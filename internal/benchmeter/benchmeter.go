// Package benchmeter measures what benchmarks report beside wall time: the
// peak of the Go heap and the CPU time this process used. On a machine
// shared with a sandbox's API server, CPU time says which side spent it.
package benchmeter

import (
	"runtime/metrics"
	"sync"
	"syscall"
	"time"
)

// PeakHeap samples the live Go heap every millisecond, and once more when the
// returned function is called, which returns the highest value seen, in bytes.
func PeakHeap() (stop func() float64) {
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		read := func() {
			metrics.Read(sample)
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			mu.Unlock()
		}
		for {
			read()
			select {
			case <-done:
				read() // what was live when stopped counts too
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() float64 {
		once.Do(func() { close(done) })
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return float64(peak)
	}
}

// CPU returns a function that says how much user and system CPU time this
// process used since CPU was called.
func CPU() (since func() (user, sys time.Duration)) {
	u0, s0 := used()
	return func() (time.Duration, time.Duration) {
		u, s := used()
		return u - u0, s - s0
	}
}

func used() (user, sys time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
