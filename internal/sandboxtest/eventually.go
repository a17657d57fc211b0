package sandboxtest

import (
	"testing"
	"time"
)

// Eventually calls f until it returns nil, and fails the test with f's last
// error when the timeout passes first: for waiting on controllers of the
// sandbox (a namespace finalizing, a ReplicaSet appearing).
func Eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
