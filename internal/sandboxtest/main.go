package sandboxtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

// shared is the per-package sandbox managed by Main and Get.
var shared struct {
	mu      sync.Mutex
	enabled bool
	env     *Env
	err     error
}

// Main runs the package's tests and stops the shared sandbox afterwards.
// Call it from TestMain and exit with the code it returns. Nothing is built or
// started unless a test calls Get.
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.enabled = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.env != nil {
		if err := shared.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		shared.env = nil
	}
	return code
}

// Get returns the package's shared sandbox, starting it on first use. It
// fails the test (never skips) when the sandbox cannot be started; only
// `go test -short` skips the tests that need it. Tests
// sharing it must not depend on each other's objects; use fresh
// namespaces.
func Get(t testing.TB) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the sandbox control plane; runs without -short")
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.enabled {
		t.Fatal("sandboxtest.Get: the package's TestMain must call sandboxtest.Main")
	}
	if shared.env == nil && shared.err == nil {
		shared.env, shared.err = Start(context.Background(), Options{})
	}
	if shared.err != nil {
		t.Fatalf("sandboxtest: %v", shared.err)
	}
	return shared.env
}
