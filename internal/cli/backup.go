package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/backup"
	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/gctune"
	"github.com/shipshape-dev/shipshape/internal/version"
)

// BackupOptions are the inputs of `shipshape backup`.
type BackupOptions struct {
	*Globals
	Out            string
	Recipients     []string
	RecipientsFile string
	Identity       string
	ExcludeSecrets bool
	IncludeDerived bool
}

// VerifyBackupOptions are the inputs of `shipshape backup verify`.
type VerifyBackupOptions struct {
	*Globals
	From     string
	Identity string
}

// NewCmdBackup builds `shipshape backup` and `shipshape backup verify`.
// runF and verifyF replace the run functions in tests of flag parsing.
func NewCmdBackup(g *Globals, runF func(context.Context, *BackupOptions) error, verifyF func(context.Context, *VerifyBackupOptions) error) *cobra.Command {
	opts := &BackupOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "backup --out DIR|FILE.tar.gz (--recipient KEY|--recipients-file FILE|--exclude-secrets)",
		Short: "Back up every object of a cluster as clean YAML, Secrets encrypted with age",
		Long: `Backup reads every served resource of the cluster (custom resources included, all
namespaces unless -n is given) and writes one clean, key-sorted YAML file per object:
cluster/<group>/<kind>/<name>.yaml and namespaces/<ns>/<group>/<kind>/<name>.yaml.

The data of every Secret, Helm release values and release records are encrypted with age to
the recipients (age or ssh public keys) and decrypt with the age CLI; without a recipient,
backup refuses to run unless --exclude-secrets is given. Give --identity to keep unchanged
Secrets byte-identical between runs (git shows only real changes).

The backup is written beside --out and renamed into place when complete, so an interrupted
run never replaces the previous backup. See docs/backup.md for the layout.`,
		Example: `  # A tree for git, encrypted to two people
  shipshape backup --out ./cluster-backup --recipient age1... --recipient "ssh-ed25519 AAAA..."

  # One file, keeping unchanged Secrets byte-identical
  shipshape backup --out backup.tar.gz --recipients-file team.keys --identity ~/.age/key.txt

  # Check it
  shipshape backup verify --from ./cluster-backup --identity ~/.age/key.txt`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return backupRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Out, "out", "", "the backup: a directory, or a file ending in .tar.gz")
	f.StringArrayVar(&opts.Recipients, "recipient", nil, "an age (age1...) or ssh public key to encrypt Secrets to; repeatable")
	f.StringVar(&opts.RecipientsFile, "recipients-file", "", "a file of recipients, one per line")
	f.StringVar(&opts.Identity, "identity", "", "an age identity or ssh private key, to reuse the previous backup's HMAC key")
	f.BoolVar(&opts.ExcludeSecrets, "exclude-secrets", false, "leave out Secrets and Helm release records (allowed without a recipient)")
	f.BoolVar(&opts.IncludeDerived, "include-derived", false, "keep objects controllers recreate (owned Pods, ReplicaSets, managed Endpoints...)")
	_ = cmd.MarkFlagFilename("recipients-file")
	_ = cmd.MarkFlagFilename("identity")

	vopts := &VerifyBackupOptions{Globals: g}
	verify := &cobra.Command{
		Use:   "verify --from DIR|FILE.tar.gz [--identity FILE]",
		Short: "Check that a backup is complete, decrypts and is restorable on its own",
		Long: `Verify checks a backup's files against the checksums in its manifest, decrypts every
encrypted file with --identity, and checks that a restore of the backup alone would work: each
custom resource has its CRD; each Secret, ConfigMap, ServiceAccount, PVC and PriorityClass a pod
template needs is present; each Helm release decodes; the sealed-secrets key is present when
SealedSecrets are; each recorded owners annotation decodes. It exits 3 when it finds a problem.

It notes, without failing, each recorded owner that is not in the backup: restore links an object
to its owners again only when they are in the target.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if verifyF != nil {
				return verifyF(cmd.Context(), vopts)
			}
			return verifyBackupRun(cmd.Context(), vopts)
		},
	}
	verify.Flags().StringVar(&vopts.From, "from", "", "the backup directory or .tar.gz file")
	verify.Flags().StringVar(&vopts.Identity, "identity", "", "an age identity file or ssh private key")
	_ = verify.MarkFlagFilename("identity")
	cmd.AddCommand(verify)
	return cmd
}

func backupRun(ctx context.Context, opts *BackupOptions) error {
	if opts.Out == "" {
		return usagef("--out is required")
	}
	var recipients []backup.Recipient
	for _, s := range opts.Recipients {
		r, err := backup.ParseRecipient(s)
		if err != nil {
			return usagef("--recipient: %v", err)
		}
		recipients = append(recipients, r)
	}
	if opts.RecipientsFile != "" {
		rs, err := backup.ParseRecipientsFile(opts.RecipientsFile)
		if err != nil {
			return usagef("--recipients-file: %v", err)
		}
		recipients = append(recipients, rs...)
	}
	if len(recipients) == 0 && !opts.ExcludeSecrets {
		return &usageError{backup.ErrNoRecipient}
	}
	var ids []age.Identity
	if opts.Identity != "" {
		var err error
		if ids, err = backup.ParseIdentities(opts.Identity); err != nil {
			return usagef("--identity: %v", err)
		}
	}
	if opts.Cluster.Namespace != "" && opts.Cluster.AllNamespaces {
		return usagef("-n and -A cannot be used together")
	}
	flags := opts.Cluster
	if flags.Namespace == "" {
		flags.AllNamespaces = true
	}
	target, err := flags.Load()
	if err != nil {
		return err
	}
	defer gctune.Batch()()
	// The previous backup is read while the cluster is listed.
	prevc := make(chan *backup.Previous, 1)
	go func() { prevc <- backup.LoadPrevious(ctx, opts.Out) }()
	bar := newProgress(opts.Streams.Err, opts.Streams.ErrTTY, "reading cluster")
	snap, err := cluster.Snapshot(ctx, target, cluster.SnapshotOptions{Progress: bar.Update, Exclude: backup.Unlisted()})
	bar.Done()
	prev := <-prevc
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(opts.Streams.Err, nil))
	for _, g := range snap.Gaps {
		log.Warn("not backed up", "resource", g.Source, "reason", g.Reason)
	}
	res, err := backup.Write(ctx, snap, backup.WriteOptions{
		Out: opts.Out, Recipients: recipients, Identities: ids,
		ExcludeSecrets: opts.ExcludeSecrets, IncludeDerived: opts.IncludeDerived,
		ToolVersion: version.Get().Version, Previous: prev,
	})
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		log.Warn("backup", "note", w)
	}
	total := 0
	for _, n := range res.Manifest.Counts {
		total += n
	}
	state := "written"
	if res.Unchanged {
		state = "unchanged"
	}
	fmt.Fprintf(opts.Streams.Out, "backup %s: %s, %d objects of %d kinds, %d files, %d newly encrypted\n",
		state, res.Path, total, len(res.Manifest.Counts), len(res.Manifest.Files)+1, res.Reencrypted)
	if len(res.Skipped) > 0 {
		rules := make([]string, 0, len(res.Skipped))
		for r := range res.Skipped {
			rules = append(rules, r)
		}
		sort.Strings(rules)
		parts := make([]string, len(rules))
		for i, r := range rules {
			parts[i] = fmt.Sprintf("%s %d", r, res.Skipped[r])
		}
		fmt.Fprintf(opts.Streams.Out, "left out by rule (see docs/backup.md): %s\n", strings.Join(parts, ", "))
	}
	if res.Manifest.Partial {
		fmt.Fprintf(opts.Streams.Out, "PARTIAL: %d resources could not be read (listed in %s)\n", len(res.Manifest.Gaps), backup.ManifestFile)
		return errors.New("backup is partial: some resources could not be read")
	}
	return nil
}

func verifyBackupRun(ctx context.Context, opts *VerifyBackupOptions) error {
	if opts.From == "" {
		return usagef("--from is required")
	}
	var ids []age.Identity
	if opts.Identity != "" {
		var err error
		if ids, err = backup.ParseIdentities(opts.Identity); err != nil {
			return usagef("--identity: %v", err)
		}
	}
	rep, err := backup.Verify(ctx, opts.From, backup.Options{Identities: ids})
	if err != nil {
		return err
	}
	w := opts.Streams.Out
	fmt.Fprintf(w, "backup %s (%s, made %s by %s)\n", opts.From, rep.Manifest.Format, rep.Manifest.Created.Format("2006-01-02T15:04:05Z07:00"), rep.Manifest.Tool)
	fmt.Fprintf(w, "  objects: %d, helm releases: %d, encrypted files: %d, decrypted: %d\n", rep.Objects, rep.Releases, rep.Encrypted, rep.Decrypted)
	notes := append([]string(nil), rep.Notes...)
	sort.Strings(notes)
	for _, n := range notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	if !rep.OK() {
		return &thresholdError{count: len(rep.Problems), threshold: finding.Info}
	}
	fmt.Fprintln(w, "  ok: complete, decrypts and restorable on its own")
	return nil
}
