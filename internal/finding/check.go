package finding

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Check is one judgement, a value in the manner of go/analysis analyzers: a
// stable ID, documentation, the severity of what it finds by default, and a
// pure function from a snapshot to findings. Checks never fetch and never print.
type Check struct {
	// ID is stable and kebab-case, grouped by capability: "inventory/objects".
	ID string
	// Title is one line for lists.
	Title string
	// Doc explains what the check looks at, why it matters and how to fix it.
	Doc string
	// Severity is the highest severity the check reports.
	Severity Severity
	// DocsURL points to more documentation, when there is any.
	DocsURL string
	// Run judges the snapshot. It must not modify it.
	Run func(ctx context.Context, s *snapshot.Snapshot) ([]Finding, error)
}

var checkID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)+$`)

// Validate reports whether the check is well formed.
func (c Check) Validate() error {
	switch {
	case !checkID.MatchString(c.ID):
		return fmt.Errorf("check %q: id must be lower-case kebab words joined by '/', e.g. \"inventory/objects\"", c.ID)
	case strings.TrimSpace(c.Title) == "":
		return fmt.Errorf("check %q: missing title", c.ID)
	case strings.TrimSpace(c.Doc) == "":
		return fmt.Errorf("check %q: missing doc", c.ID)
	case c.Run == nil:
		return fmt.Errorf("check %q: missing Run", c.ID)
	}
	return nil
}

// Registry is an ordered set of checks with unique IDs.
type Registry struct {
	checks []Check
}

// NewRegistry validates the checks and returns them sorted by ID.
func NewRegistry(checks ...Check) (*Registry, error) {
	seen := map[string]bool{}
	for _, c := range checks {
		if err := c.Validate(); err != nil {
			return nil, err
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("check %q registered twice", c.ID)
		}
		seen[c.ID] = true
	}
	out := slices.Clone(checks)
	slices.SortFunc(out, func(a, b Check) int { return strings.Compare(a.ID, b.ID) })
	return &Registry{checks: out}, nil
}

// Checks returns the checks, sorted by ID.
func (r *Registry) Checks() []Check { return slices.Clone(r.checks) }
