// Package backup writes a live cluster's desired state as a tree of clean,
// key-sorted YAML files (one object per file) with Secret data encrypted by
// age, reads such a tree back (Load) and checks that it is complete and
// restorable on its own (Verify). It also describes the cluster in
// inventory.yaml and RECREATE.md and provides the disaster-readiness checks
// that scan runs.
//
// The package never talks to an API server (internal/cluster does), never
// prints, and never writes a Secret value, a Helm value or the HMAC key
// unencrypted. A backup is written beside its target and renamed into place,
// so an interrupted run never replaces the last good backup.
package backup

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/drift"
)

// FormatVersion identifies the layout of a backup tree in manifest.yaml.
const FormatVersion = "shipshape.dev/backup/v1"

// Names of the files at the root of a backup.
const (
	ManifestFile  = "manifest.yaml"
	InventoryFile = "inventory.yaml"
	RecreateFile  = "RECREATE.md"
	// HMACKeyFile holds the key of the Secret HMACs, encrypted to the recipients.
	HMACKeyFile = "hmac-key.age"
)

// Annotations the writer adds to the YAML of an object whose data is
// encrypted. Load removes every annotation with AnnotationPrefix.
const (
	AnnotationPrefix = drift.BackupAnnotationPrefix
	// AnnotationDataFile names the encrypted data file, relative to the object's file.
	AnnotationDataFile = AnnotationPrefix + "data-file"
	// AnnotationDataHMAC is the hex HMAC-SHA256 of the canonical plaintext data.
	AnnotationDataHMAC = AnnotationPrefix + "data-hmac"
)

// Manifest is manifest.yaml, written last: a backup without it is incomplete.
type Manifest struct {
	Format string `json:"format"`
	// Tool is "shipshape <version>".
	Tool string `json:"tool"`
	// Created is when the backup's content last changed: a run that finds
	// nothing changed keeps the previous time, so that the tree stays
	// byte-identical (the file's modification time still moves).
	Created time.Time `json:"created"`
	Server  *Server   `json:"server,omitempty"`
	// Partial is true when part of the cluster could not be read; Gaps say what.
	Partial bool  `json:"partial"`
	Gaps    []Gap `json:"gaps,omitempty"`
	// Recipients are the age or ssh public keys Secret data is encrypted to.
	Recipients []string `json:"recipients,omitempty"`
	// SecretsExcluded is true when the backup was made with --exclude-secrets.
	SecretsExcluded bool `json:"secretsExcluded,omitempty"`
	// Counts are objects written per "group/Kind" ("core/ConfigMap").
	Counts map[string]int `json:"counts"`
	// IncludeDerived is true when the backup was made with --include-derived:
	// objects that controllers recreate are in it.
	IncludeDerived bool `json:"includeDerived,omitempty"`
	// Skipped was written by earlier versions (objects left out per
	// cleaning rule) and is read but no longer written: those counts move
	// with what controllers are doing (Jobs a CronJob ran, Pods an
	// autoscaler added), so they changed the manifest of an unchanged
	// cluster. Result.Skipped has them.
	Skipped map[string]int `json:"skipped,omitempty"`
	// Files maps every other file of the backup to its hex sha256.
	Files map[string]string `json:"files"`
}

// Server is the API server a backup was read from.
type Server struct {
	Host    string `json:"host,omitempty"`
	Version string `json:"version,omitempty"`
}

// Gap is a part of the cluster that could not be read.
type Gap struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// groupDir is the directory name of an API group: "core" for the core group.
func groupDir(group string) string {
	if group == "" {
		return "core"
	}
	return group
}

// ObjectPath is where an object lives in a backup tree:
// cluster/<group>/<kind>/<name>.yaml or namespaces/<ns>/<group>/<kind>/<name>.yaml.
func ObjectPath(group, kind, namespace, name string) string {
	if namespace == "" {
		return path.Join("cluster", groupDir(group), escape(kind), escape(name)+".yaml")
	}
	return path.Join("namespaces", escape(namespace), groupDir(group), escape(kind), escape(name)+".yaml")
}

// dataPath is the encrypted data file beside an object's file.
func dataPath(objectPath string) string {
	return strings.TrimSuffix(objectPath, ".yaml") + ".data.age"
}

// escape makes a name safe as one path element: bytes outside
// [A-Za-z0-9._:@-] become %XX, and a name made only of dots is escaped whole.
func escape(s string) string {
	var b strings.Builder
	allDots := s != ""
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '.' {
			allDots = false
		}
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '_', c == ':', c == '@', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if allDots {
		return strings.ReplaceAll(s, ".", "%2E")
	}
	return b.String()
}

// HelmDir is the directory of one Helm release.
func HelmDir(namespace, release string) string {
	return path.Join("helm", escape(namespace), escape(release))
}
