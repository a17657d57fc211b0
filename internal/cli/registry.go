package cli

import (
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// registry gathers every capability's checks. It is the one list scan runs
// and `shipshape checks` documents; a new capability adds its checks here.
func registry() (*finding.Registry, error) {
	var all []finding.Check
	all = append(all, finding.InvalidDocument())
	all = append(all, inventory.Checks()...)
	return finding.NewRegistry(all...)
}
