package cli

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress draws a one-line status on stderr for work that takes more than a
// couple of seconds. It stays silent when stderr is not a terminal, so logs
// and CI output never hold carriage returns.
type progress struct {
	w       io.Writer
	enabled bool
	label   string
	start   time.Time
	delay   time.Duration
	now     func() time.Time

	mu    sync.Mutex
	shown bool
}

func newProgress(w io.Writer, tty bool, label string) *progress {
	return &progress{w: w, enabled: tty, label: label, start: time.Now(), delay: 2 * time.Second, now: time.Now}
}

// Update reports done of total steps, the last one named what.
func (p *progress) Update(done, total int, what string) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.now().Sub(p.start) < p.delay {
		return
	}
	p.shown = true
	line := fmt.Sprintf("%s: %d/%d %s", p.label, done, total, what)
	if len(line) > 78 {
		line = line[:78]
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

// Done clears the line if anything was drawn.
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
