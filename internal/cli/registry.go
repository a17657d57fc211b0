package cli

import (
	"time"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/audit/rbac"
	"github.com/shipshape-dev/shipshape/internal/backup"
	"github.com/shipshape-dev/shipshape/internal/certs"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/upgrade"
)

// checkConfig carries the settings some checks take from flags.
type checkConfig struct {
	// BackupDir and MaxBackupAge configure backup/freshness and
	// backup/sealed-secrets-key (scan's --backup-dir, --max-backup-age).
	BackupDir    string
	MaxBackupAge time.Duration
}

// registry gathers every capability's checks with their default settings.
func registry() (*finding.Registry, error) { return registryWith(checkConfig{}) }

// registryWith gathers every capability's checks. It is the one list scan,
// audit and the guard run and `shipshape checks` documents; a new
// capability adds its checks here.
func registryWith(cfg checkConfig) (*finding.Registry, error) {
	var all []finding.Check
	all = append(all, finding.InvalidDocument())
	all = append(all, inventory.Checks()...)
	all = append(all, audit.Checks()...)
	all = append(all, rbac.Checks()...)
	all = append(all, certs.Checks()...)
	all = append(all, upgrade.Checks(upgrade.Options{})...)
	all = append(all, backup.Checks(cfg.BackupDir, cfg.MaxBackupAge, nil)...)
	return finding.NewRegistry(all...)
}
