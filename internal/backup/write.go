package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/helmrelease"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// WriteOptions tune Write.
type WriteOptions struct {
	// Out is the target: a directory, or a file ending in .tar.gz or .tgz.
	Out string
	// Recipients encrypt Secret data, Helm values and the HMAC key.
	Recipients []Recipient
	// Identities, when given, decrypt the previous backup's HMAC key so that
	// unchanged Secrets keep their ciphertext byte for byte. Without them a
	// new key is made and every Secret is encrypted afresh.
	Identities []age.Identity
	// ExcludeSecrets leaves out Secrets, Helm release records and Helm values.
	ExcludeSecrets bool
	// IncludeDerived keeps objects that controllers recreate (Rules with Derived).
	IncludeDerived bool
	// ToolVersion is recorded in the manifest.
	ToolVersion string
	// Previous is the backup at Out as LoadPrevious read it, so that a
	// caller can read it while the cluster is being listed; nil means Write
	// reads it itself.
	Previous *Previous
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// afterFile, in tests, runs after each file written to the temporary target.
	afterFile func(n int)
	// writers, in benchmarks, is the number of goroutines creating files;
	// 0 means fileWriters.
	writers int
}

// Result says what Write did.
type Result struct {
	// Path is the backup written.
	Path     string
	Manifest *Manifest
	// Unchanged is true when the previous backup already held exactly this content.
	Unchanged bool
	// Reencrypted counts encrypted files whose ciphertext changed.
	Reencrypted int
	// Warnings are for the user (bare Pods and Jobs kept, undecodable Helm records, a new HMAC key).
	Warnings []string
	// Skipped counts the objects left out, per cleaning rule.
	Skipped map[string]int
}

// ErrNoRecipient means Secrets would be written and no recipient was given.
var ErrNoRecipient = errors.New("no recipient to encrypt Secrets to: give --recipient or --recipients-file, or --exclude-secrets to back up without Secrets")

// isTarball reports whether out names a .tar.gz file.
func isTarball(out string) bool {
	return strings.HasSuffix(out, ".tar.gz") || strings.HasSuffix(out, ".tgz")
}

// Write backs up the snapshot's objects to opts.Out. Objects are cleaned,
// encrypted and written by a bounded pool of workers into a tree beside the
// target (".NAME.partial-*"; a tarball is assembled in memory), files that
// kept the previous backup's bytes are hard-linked from it, manifest.yaml is
// written last and the tree renamed into place; files of a directory target
// that the backup does not own (.git, a README) are carried over. When the
// previous backup holds exactly the same content nothing is written.
func Write(ctx context.Context, snap *snapshot.Snapshot, opts WriteOptions) (*Result, error) {
	if opts.Out == "" {
		return nil, errors.New("backup: no output given")
	}
	if len(opts.Recipients) == 0 && !opts.ExcludeSecrets {
		return nil, ErrNoRecipient
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	res := &Result{Path: opts.Out}

	pv := opts.Previous
	if pv == nil {
		pv = LoadPrevious(ctx, opts.Out)
	}
	prev, prevManifest := pv.files, pv.manifest
	if prevManifest == nil {
		if err := refuseForeign(opts.Out); err != nil {
			return nil, err
		}
	}
	recipients := recipientTexts(opts.Recipients)
	sameRecipients := prevManifest != nil && slices2Equal(prevManifest.Recipients, recipients)

	tw, err := newTreeWriter(opts, prev, prevManifest != nil && !isTarball(opts.Out))
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			tw.abandon()
		}
	}()

	var key []byte
	if len(opts.Recipients) > 0 {
		var reused bool
		key, reused = previousKey(prev, opts.Identities, sameRecipients)
		var ct []byte
		if reused {
			ct = prev[HMACKeyFile]
		} else {
			key = make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				return nil, fmt.Errorf("make HMAC key: %w", err)
			}
			if ct, err = encrypt(key, opts.Recipients); err != nil {
				return nil, fmt.Errorf("encrypt HMAC key: %w", err)
			}
			if prevManifest != nil && len(prevManifest.Recipients) > 0 {
				res.Warnings = append(res.Warnings, "previous HMAC key not reused (no --identity, or recipients changed): every Secret is encrypted afresh")
			}
		}
		if err := tw.put(HMACKeyFile, ct); err != nil {
			return nil, err
		}
		if !reused {
			prev = withoutEncrypted(prev) // never reuse ciphertext under a new key
		}
	}

	m := &Manifest{
		Format:          FormatVersion,
		Tool:            strings.TrimSpace("shipshape " + opts.ToolVersion),
		Recipients:      recipients,
		SecretsExcluded: opts.ExcludeSecrets,
		IncludeDerived:  opts.IncludeDerived,
		Counts:          map[string]int{},
	}
	res.Skipped = map[string]int{}
	if snap.Server != nil {
		m.Server = &Server{Host: snap.Server.Host, Version: snap.Server.GitVersion}
	}
	for _, g := range snap.Gaps {
		m.Gaps = append(m.Gaps, Gap{Source: g.Source, Reason: g.Reason})
	}
	m.Partial = len(m.Gaps) > 0

	enc := &encrypter{recipients: opts.Recipients, key: key, prev: prev}
	if err := writeObjects(ctx, snap, opts, enc, tw, m, res); err != nil {
		return nil, err
	}
	if !opts.ExcludeSecrets {
		if err := writeReleases(snap, enc, tw, res); err != nil {
			return nil, err
		}
	}
	inv := buildInventory(snap)
	invYAML, err := yaml.Marshal(inv)
	if err != nil {
		return nil, fmt.Errorf("encode inventory: %w", err)
	}
	if err := tw.put(InventoryFile, invYAML); err != nil {
		return nil, err
	}
	if err := tw.put(RecreateFile, []byte(recreateNotes(inv))); err != nil {
		return nil, err
	}
	res.Reencrypted = enc.fresh

	m.Files = tw.sums
	m.Created = now().UTC().Truncate(time.Second)
	if prevManifest != nil && sameContent(prevManifest, m) {
		m.Created = prevManifest.Created
	}
	mb, err := marshalManifest(m)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	res.Manifest = m

	if prevManifest != nil && identicalSums(prev, tw.sums, mb) {
		tw.discard()
		done = true
		res.Unchanged = true
		t := now()
		if !isTarball(opts.Out) {
			_ = os.Chtimes(filepath.Join(opts.Out, ManifestFile), t, t)
		} else {
			_ = os.Chtimes(opts.Out, t, t)
		}
		return res, nil
	}
	if isTarball(opts.Out) {
		done = true
		return res, writeTarball(opts, tw.data, mb)
	}
	if err := tw.linkUnchanged(ctx); err != nil {
		return nil, err
	}
	done = true
	return res, tw.finishDir(opts.Out, mb)
}

// marshalManifest writes the manifest as YAML through its JSON form (for
// the JSON tags), with marshalYAML: sigs.k8s.io/yaml is slow on 50,000
// lines. The files section, one entry per file of the backup, does not go
// through JSON and back.
func marshalManifest(m *Manifest) ([]byte, error) {
	head := *m
	head.Files = nil
	js, err := json.Marshal(&head)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := json.Unmarshal(js, &v); err != nil {
		return nil, err
	}
	if m.Files != nil {
		files := make(map[string]any, len(m.Files))
		for p, sum := range m.Files {
			files[p] = sum
		}
		v["files"] = files
	}
	return marshalYAML(v)
}

// refuseForeign refuses a target that exists and is not a complete backup,
// so that a mistyped --out never replaces someone's files: a file, or a
// directory holding files a backup would own.
func refuseForeign(out string) error {
	fi, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("backup: %s exists and is not a shipshape backup; remove it or choose another --out", out)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	for _, e := range entries {
		if owned(e.Name()) || owned(e.Name()+"/") {
			return fmt.Errorf("backup: %s holds %s but no complete backup (no %s); remove it or choose another --out", out, e.Name(), ManifestFile)
		}
	}
	return nil
}

func recipientTexts(rs []Recipient) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Text)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func slices2Equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Previous is the complete backup found at a target, read for reuse: the
// files whose bytes a new backup keeps are linked from it, and unchanged
// Secrets keep their ciphertext.
type Previous struct {
	files    map[string][]byte
	manifest *Manifest
}

// LoadPrevious reads the backup at out for Write to reuse. Anything but a
// complete backup (none, a partial one, a foreign file) gives an empty
// Previous: Write then starts afresh, and refuses a foreign target itself.
func LoadPrevious(ctx context.Context, out string) *Previous {
	files, err := readFiles(ctx, out)
	if err != nil {
		return &Previous{}
	}
	raw, ok := files[ManifestFile]
	if !ok {
		return &Previous{}
	}
	m, err := decodeManifest(raw)
	if err != nil || m.Format != FormatVersion {
		return &Previous{}
	}
	return &Previous{files: files, manifest: m}
}

func previousKey(prev map[string][]byte, ids []age.Identity, sameRecipients bool) ([]byte, bool) {
	ct, ok := prev[HMACKeyFile]
	if !ok || len(ids) == 0 || !sameRecipients {
		return nil, false
	}
	key, err := decrypt(ct, ids)
	if err != nil || len(key) != 32 {
		return nil, false
	}
	return key, true
}

func withoutEncrypted(prev map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(prev))
	for p, b := range prev {
		if !strings.HasSuffix(p, ".age") {
			out[p] = b
		}
	}
	return out
}

// sameContent reports whether two manifests describe the same backup, time aside.
func sameContent(a, b *Manifest) bool {
	x, y := *a, *b
	x.Created, y.Created = time.Time{}, time.Time{}
	return reflect.DeepEqual(x, y)
}

// encrypter encrypts data files, reusing the previous ciphertext when the
// keyed HMAC of the plaintext has not changed.
type encrypter struct {
	recipients []Recipient
	key        []byte
	prev       map[string][]byte
	mu         sync.Mutex
	fresh      int
}

// seal returns the HMAC of plaintext and its ciphertext; prevHMAC is the
// HMAC recorded for the same file in the previous backup.
func (e *encrypter) seal(dataFile string, plaintext []byte, prevHMAC string) (string, []byte, error) {
	h := mac(e.key, plaintext)
	if old, ok := e.prev[dataFile]; ok && prevHMAC == h {
		return h, old, nil
	}
	ct, err := encrypt(plaintext, e.recipients)
	if err != nil {
		return "", nil, err
	}
	e.mu.Lock()
	e.fresh++
	e.mu.Unlock()
	return h, ct, nil
}

// previousHMAC reads the data-hmac annotation of an object file in the previous backup.
func (e *encrypter) previousHMAC(objectPath string) string {
	raw, ok := e.prev[objectPath]
	if !ok {
		return ""
	}
	if h, ok := scanHMAC(raw); ok {
		return h
	}
	var o struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if yaml.Unmarshal(raw, &o) != nil {
		return ""
	}
	return o.Metadata.Annotations[AnnotationDataHMAC]
}

// scanHMAC finds the data-hmac annotation in a file as the writer lays it
// out (one line, 64 hex digits, plain or double-quoted), without parsing the YAML: parsing 10,000
// Secret files is most of an unchanged backup's time. Anything else (a file
// edited by hand, the annotation twice) is left to the YAML parser.
func scanHMAC(raw []byte) (string, bool) {
	prefix := []byte(AnnotationDataHMAC + ": ")
	i := bytes.Index(raw, prefix)
	if i < 0 || bytes.Contains(raw[i+len(prefix):], prefix) {
		return "", false
	}
	line := raw[i+len(prefix):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	if len(line) == 66 && line[0] == '"' && line[65] == '"' {
		line = line[1:65] // quoted when it starts with a digit
	}
	if len(line) != 64 || strings.Trim(string(line), "0123456789abcdef") != "" {
		return "", false
	}
	if k := bytes.LastIndexByte(raw[:i], '\n'); strings.Trim(string(raw[k+1:i]), " ") != "" {
		return "", false
	}
	return string(line), true
}

// sensitive reports whether obj's data must be encrypted: Secrets and Helm
// release records stored in ConfigMaps.
func sensitive(obj *unstructured.Unstructured) bool {
	g := obj.GroupVersionKind().Group
	if g != "" {
		return false
	}
	return obj.GetKind() == "Secret" || (obj.GetKind() == "ConfigMap" && helmrelease.IsRecord(obj))
}

type rendered struct {
	path  string
	count string
	skip  string
	warn  string
}

// writeObjects cleans, encrypts and writes the objects with a bounded pool
// of workers, each writing its files as soon as they are made. Which object
// is skipped (duplicates included: the first in snapshot order wins) is
// decided before, in order, so the result does not depend on scheduling.
func writeObjects(ctx context.Context, snap *snapshot.Snapshot, opts WriteOptions, enc *encrypter, tw *treeWriter, m *Manifest, res *Result) error {
	selectorServices := map[string]bool{}
	for _, o := range snap.Objects {
		if o.GetKind() == "Service" && o.GroupVersionKind().Group == "" {
			if sel, ok, _ := unstructured.NestedMap(o.Object, "spec", "selector"); ok && len(sel) > 0 {
				selectorServices[o.GetNamespace()+"/"+o.GetName()] = true
			}
		}
	}
	out := make([]rendered, len(snap.Objects))
	seenUID := map[string]bool{}
	seenPath := map[string]bool{}
	var todo []int
	for i, o := range snap.Objects {
		if uid := string(o.GetUID()); uid != "" {
			if seenUID[uid] {
				out[i].skip = "duplicate"
				continue
			}
			seenUID[uid] = true
		}
		if r := skipReason(o.Unstructured, opts.IncludeDerived, selectorServices); r != "" {
			out[i].skip = r
			continue
		}
		if opts.ExcludeSecrets && sensitive(o.Unstructured) {
			out[i].skip = "excluded-secret"
			continue
		}
		gvk := o.GroupVersionKind()
		p := ObjectPath(gvk.Group, gvk.Kind, o.GetNamespace(), o.GetName())
		if seenPath[p] {
			out[i].skip = "duplicate"
			continue
		}
		seenPath[p] = true
		todo = append(todo, i)
	}

	// As many workers as processors, each taking the next object: a
	// goroutine per object would grow a fresh stack through age's calls
	// 50,000 times.
	g, gctx := errgroup.WithContext(ctx)
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			for {
				k := int(next.Add(1)) - 1
				if k >= len(todo) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				i := todo[k]
				r, files, err := renderObject(snap.Objects[i].Unstructured, enc)
				if err != nil {
					return err
				}
				for _, f := range files {
					if err := tw.put(f.path, f.data); err != nil {
						return err
					}
				}
				out[i] = r
			}
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, r := range out {
		if r.skip != "" {
			res.Skipped[r.skip]++
			continue
		}
		if r.path == "" {
			continue
		}
		m.Counts[r.count]++
		if r.warn != "" {
			res.Warnings = append(res.Warnings, r.warn)
		}
	}
	return nil
}

type file struct {
	path string
	data []byte
}

func renderObject(in *unstructured.Unstructured, enc *encrypter) (rendered, []file, error) {
	obj := clean(in)
	gvk := obj.GroupVersionKind()
	p := ObjectPath(gvk.Group, gvk.Kind, obj.GetNamespace(), obj.GetName())
	r := rendered{path: p, count: groupDir(gvk.Group) + "/" + gvk.Kind}
	var files []file
	if gvk.Group == "" && (gvk.Kind == "Pod") || gvk.Group == "batch" && gvk.Kind == "Job" {
		r.warn = fmt.Sprintf("%s %s/%s has no controller: kept, but it is a one-off that a restore starts again", gvk.Kind, obj.GetNamespace(), obj.GetName())
	}
	if sensitive(obj) {
		fields := map[string]any{}
		for _, f := range []string{"data", "binaryData", "stringData"} {
			if v, ok := obj.Object[f]; ok && v != nil {
				fields[f] = v
				delete(obj.Object, f)
			}
		}
		if len(fields) > 0 {
			plain, err := marshalYAML(fields)
			if err != nil {
				return r, nil, fmt.Errorf("encode data of %s: %w", p, err)
			}
			dp := dataPath(p)
			h, ct, err := enc.seal(dp, plain, enc.previousHMAC(p))
			if err != nil {
				return r, nil, fmt.Errorf("encrypt data of %s: %w", p, err)
			}
			ann := obj.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann[AnnotationDataFile] = path.Base(dp)
			ann[AnnotationDataHMAC] = h
			obj.SetAnnotations(ann)
			files = append(files, file{dp, ct})
		}
	}
	b, err := marshalYAML(obj.Object)
	if err != nil {
		return r, nil, fmt.Errorf("encode %s: %w", p, err)
	}
	return r, append(files, file{p, b}), nil
}

func writeReleases(snap *snapshot.Snapshot, enc *encrypter, tw *treeWriter, res *Result) error {
	objs := make([]*unstructured.Unstructured, 0)
	for _, o := range snap.Objects {
		if helmrelease.IsRecord(o.Unstructured) {
			objs = append(objs, o.Unstructured)
		}
	}
	rels, problems := helmrelease.Latest(objs)
	for _, p := range problems {
		res.Warnings = append(res.Warnings, fmt.Sprintf("helm release record %s: %v", p.Record, p.Err))
	}
	for _, rel := range rels {
		dir := HelmDir(rel.Namespace, rel.Name)
		ci := ChartInfo{
			Release: rel.Name, Namespace: rel.Namespace, Revision: rel.Revision, Status: rel.Status,
			Name: rel.Chart.Name, Version: rel.Chart.Version, AppVersion: rel.Chart.AppVersion,
			KubeVersion: rel.Chart.KubeVersion, Record: rel.Record.String(),
		}
		for _, d := range rel.Chart.Dependencies {
			ci.Dependencies = append(ci.Dependencies, ChartReference(d))
		}
		if len(rel.Values) > 0 {
			plain, err := marshalYAML(rel.Values)
			if err != nil {
				return fmt.Errorf("encode values of helm release %s/%s: %w", rel.Namespace, rel.Name, err)
			}
			vp := path.Join(dir, "values.yaml.age")
			h, ct, err := enc.seal(vp, plain, previousValuesHMAC(enc.prev, path.Join(dir, "chart.yaml")))
			if err != nil {
				return fmt.Errorf("encrypt values of helm release %s/%s: %w", rel.Namespace, rel.Name, err)
			}
			ci.ValuesHMAC = h
			if err := tw.put(vp, ct); err != nil {
				return err
			}
		}
		cb, err := yaml.Marshal(ci)
		if err != nil {
			return err
		}
		if err := tw.put(path.Join(dir, "chart.yaml"), cb); err != nil {
			return err
		}
		if err := tw.put(path.Join(dir, "manifest.yaml"), []byte(redactManifest(rel.Manifest))); err != nil {
			return err
		}
		// Helm stores no chart repository: say so next to every release.
		if err := tw.put(path.Join(dir, "NOTE.md"), []byte(helmNote(ci))); err != nil {
			return err
		}
	}
	return nil
}

func previousValuesHMAC(prev map[string][]byte, chartFile string) string {
	raw, ok := prev[chartFile]
	if !ok {
		return ""
	}
	var ci ChartInfo
	if yaml.Unmarshal(raw, &ci) != nil {
		return ""
	}
	return ci.ValuesHMAC
}

func helmNote(ci ChartInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Helm release %s/%s\n\n", ci.Namespace, ci.Release)
	fmt.Fprintf(&b, "Chart %s version %s (app version %s), revision %d, status %s.\n\n", ci.Name, ci.Version, orUnknown(ci.AppVersion), ci.Revision, ci.Status)
	b.WriteString("Helm does not store where a chart came from: the repository of this chart is unknown.\n")
	b.WriteString("Record it (for example in git next to this backup) so that the release can be installed again:\n\n")
	fmt.Fprintf(&b, "    helm install %s REPO/%s --version %s -n %s -f values.yaml\n\n", ci.Release, ci.Name, ci.Version, ci.Namespace)
	b.WriteString("values.yaml is values.yaml.age decrypted: `age -d -i KEY values.yaml.age > values.yaml`.\n")
	if len(ci.Dependencies) > 0 {
		b.WriteString("\nDependencies as declared in Chart.yaml:\n\n")
		for _, d := range ci.Dependencies {
			fmt.Fprintf(&b, "- %s %s from %s\n", d.Name, d.Version, orUnknown(d.Repository))
		}
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// redactManifest removes data and stringData from Secret documents of a
// rendered Helm manifest (the Secrets themselves are backed up encrypted);
// other documents and every comment are kept as they were.
func redactManifest(manifest string) string {
	var docs [][]string
	cur := []string{}
	for _, line := range strings.Split(manifest, "\n") {
		if strings.TrimRight(line, " \t\r") == "---" {
			docs = append(docs, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, line)
	}
	docs = append(docs, cur)
	var out []string
	for i, d := range docs {
		text := strings.Join(d, "\n")
		if i > 0 {
			out = append(out, "---")
		}
		var obj map[string]any
		err := yaml.Unmarshal([]byte(text), &obj)
		if err == nil && (obj == nil || obj["kind"] != "Secret") {
			out = append(out, d...)
			continue
		}
		if err != nil && !strings.Contains(text, "Secret") {
			out = append(out, d...)
			continue
		}
		for _, line := range d {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				out = append(out, line)
			}
		}
		if err != nil {
			out = append(out, "# a document that could not be parsed and may hold a Secret was removed")
			continue
		}
		delete(obj, "data")
		delete(obj, "stringData")
		b, _ := yaml.Marshal(obj)
		out = append(out, "# data removed: the Secret is backed up encrypted")
		out = append(out, strings.TrimRight(string(b), "\n"))
	}
	return strings.Join(out, "\n")
}

// writeFile writes one file; its directory exists.
func writeFile(p string, data []byte) error {
	mode := os.FileMode(0o644)
	if strings.HasSuffix(p, ".age") {
		mode = 0o600
	}
	return os.WriteFile(p, data, mode)
}

// writeTarball writes the tree as one .tar.gz beside out and renames it into place.
func writeTarball(opts WriteOptions, files map[string][]byte, manifest []byte) error {
	out := filepath.Clean(opts.Out)
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f, err := os.CreateTemp(parent, "."+filepath.Base(out)+".partial-")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmp := f.Name()
	// BestSpeed: 0.3 s less for 50,000 objects, 8% larger; compressed in
	// 1 MiB members on every processor while the tar stream is assembled.
	zw := newParallelGzip(f, gzip.BestSpeed, runtime.GOMAXPROCS(0))
	tw := tar.NewWriter(zw)
	add := func(p string, data []byte) error {
		mode := int64(0o644)
		if strings.HasSuffix(p, ".age") {
			mode = 0o600
		}
		if err := tw.WriteHeader(&tar.Header{Name: p, Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	n := 0
	for _, p := range sortedKeys(files) {
		if err := add(p, files[p]); err != nil {
			zw.Close()
			f.Close()
			return fmt.Errorf("backup: write %s (partial backup left in %s): %w", p, tmp, err)
		}
		n++
		if opts.afterFile != nil {
			opts.afterFile(n)
		}
	}
	err = add(ManifestFile, manifest)
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: write %s (partial backup left in %s): %w", out, tmp, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}
