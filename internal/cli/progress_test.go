package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	newBar := func(tty bool) (*progress, *bytes.Buffer) {
		var b bytes.Buffer
		p := newProgress(&b, tty, "reading cluster")
		p.start, p.now = start, func() time.Time { return now }
		return p, &b
	}

	t.Run("silent when stderr is not a terminal", func(t *testing.T) {
		now = start.Add(time.Minute)
		p, b := newBar(false)
		p.Update(1, 10, "pods")
		p.Done()
		if b.Len() != 0 {
			t.Errorf("wrote %q", b)
		}
	})
	t.Run("silent for the first two seconds", func(t *testing.T) {
		now = start.Add(time.Second)
		p, b := newBar(true)
		p.Update(1, 10, "pods")
		p.Done()
		if b.Len() != 0 {
			t.Errorf("wrote %q", b)
		}
	})
	t.Run("drawn and cleared after that", func(t *testing.T) {
		now = start.Add(3 * time.Second)
		p, b := newBar(true)
		p.Update(3, 10, "configmaps")
		if !strings.Contains(b.String(), "reading cluster: 3/10 configmaps") {
			t.Errorf("progress line missing: %q", b)
		}
		p.Done()
		if !strings.HasSuffix(b.String(), "\r\033[K") {
			t.Errorf("line not cleared: %q", b)
		}
	})
}
