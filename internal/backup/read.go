package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"filippo.io/age"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/drift"
)

// Limits on what Load reads, so a hostile tarball cannot exhaust memory.
const (
	maxFileBytes  = 64 << 20
	maxTotalBytes = 4 << 30
	maxFiles      = 1 << 20
)

// Options tune Load.
type Options struct {
	// Identities decrypt Secret data and Helm values. Without any, Load
	// still reads the tree; encrypted objects come back without their data
	// and are listed in Tree.Undecrypted.
	Identities []age.Identity
}

// Item is one object of a backup, with the path of its file. Secrets (and
// Helm ConfigMap records) carry their decrypted data; every
// backup.shipshape.dev/ annotation has been removed.
type Item struct {
	Path   string
	Object *unstructured.Unstructured
}

// Release is one Helm release recorded under helm/<ns>/<release>/.
type Release struct {
	Dir       string
	Namespace string
	Name      string
	Chart     ChartInfo
	// Values are the user-supplied values (nil when not decrypted).
	Values map[string]any
	// Manifest is the rendered manifest Helm applied, with Secret data removed.
	Manifest string
	// RepositoryUnknown is true when the backup could not say where the chart came from (NOTE.md).
	RepositoryUnknown bool
}

// ChartInfo is helm/<ns>/<release>/chart.yaml.
type ChartInfo struct {
	Release      string           `json:"release"`
	Namespace    string           `json:"namespace"`
	Revision     int              `json:"revision"`
	Status       string           `json:"status"`
	Name         string           `json:"name"`
	Version      string           `json:"version"`
	AppVersion   string           `json:"appVersion,omitempty"`
	KubeVersion  string           `json:"kubeVersion,omitempty"`
	Dependencies []ChartReference `json:"dependencies,omitempty"`
	// Record is the Secret or ConfigMap the release was decoded from.
	Record string `json:"record"`
	// ValuesHMAC is the keyed HMAC of the plaintext values.yaml.age holds.
	ValuesHMAC string `json:"valuesHMAC,omitempty"`
}

// ChartReference is a chart dependency.
type ChartReference struct {
	Name       string `json:"name"`
	Version    string `json:"version,omitempty"`
	Repository string `json:"repository,omitempty"`
}

// Problem is one file of a backup that is wrong.
type Problem struct {
	Path   string
	Reason string
}

func (p Problem) String() string { return p.Path + ": " + p.Reason }

// Tree is a loaded backup.
type Tree struct {
	Manifest *Manifest
	// Items are sorted by path.
	Items    []Item
	Releases []Release
	// Partial is true when the backup recorded gaps (part of the cluster
	// could not be read) or when files are missing, altered or unreadable
	// (Problems).
	Partial bool
	// Problems are files that are missing, do not match their checksum or
	// cannot be decoded or decrypted; the rest is still loaded.
	Problems []Problem
	// Undecrypted lists the encrypted files left encrypted because no identity was given.
	Undecrypted []string
}

// Damaged reports whether it, or the encrypted data file beside it, is
// among the tree's Problems: a Secret whose data could not be decrypted is
// still an Item, without its data, and must not be restored as it is.
func (t *Tree) Damaged(it Item) bool {
	for _, p := range t.Problems {
		if p.Path == it.Path || p.Path == dataPath(it.Path) {
			return true
		}
	}
	return false
}

// ErrIncomplete means a backup has no manifest.yaml: it was interrupted
// while being written, or is not a shipshape backup.
var ErrIncomplete = errors.New("incomplete backup: no " + ManifestFile + " (interrupted while writing, or not a shipshape backup)")

// Load reads a backup directory or .tar.gz file. It reads into memory only
// and writes nothing; archive entries with absolute paths, ".." elements,
// links or devices are refused. A missing manifest is ErrIncomplete, and a
// wrong identity an error wrapping ErrNoIdentity; files that are missing,
// altered or undecodable are Tree.Problems and the rest is still loaded.
func Load(ctx context.Context, from string, opts Options) (*Tree, error) {
	files, err := readFiles(ctx, from)
	if err != nil {
		return nil, err
	}
	return loadFiles(ctx, from, files, opts)
}

func loadFiles(ctx context.Context, from string, files map[string][]byte, opts Options) (*Tree, error) {
	raw, ok := files[ManifestFile]
	if !ok {
		return nil, fmt.Errorf("%s: %w", from, ErrIncomplete)
	}
	m, err := decodeManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", from, ManifestFile, err)
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("%s: %s: format %q, want %q", from, ManifestFile, m.Format, FormatVersion)
	}
	t := &Tree{Manifest: m, Partial: m.Partial}

	// Completeness: every listed file present with its checksum, nothing extra.
	for _, p := range sortedKeys(m.Files) {
		data, ok := files[p]
		switch {
		case !ok:
			t.Problems = append(t.Problems, Problem{p, "listed in " + ManifestFile + " but missing"})
		case sha(data) != m.Files[p]:
			t.Problems = append(t.Problems, Problem{p, "content differs from its checksum in " + ManifestFile})
		}
	}
	for _, p := range sortedKeys(files) {
		if _, ok := m.Files[p]; !ok && p != ManifestFile && owned(p) {
			t.Problems = append(t.Problems, Problem{p, "not listed in " + ManifestFile})
		}
	}

	// A wrong identity is an error for the whole backup, found on the HMAC key
	// (present whenever anything was encrypted).
	if len(opts.Identities) > 0 {
		if k, ok := files[HMACKeyFile]; ok {
			if _, err := decrypt(k, opts.Identities); err != nil {
				return nil, fmt.Errorf("%s: decrypt %s: %w", from, HMACKeyFile, err)
			}
		}
	}

	for _, p := range sortedKeys(files) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !strings.HasSuffix(p, ".yaml") || !(strings.HasPrefix(p, "cluster/") || strings.HasPrefix(p, "namespaces/")) {
			continue
		}
		obj, err := decodeObject(files[p])
		if err != nil {
			t.Problems = append(t.Problems, Problem{p, err.Error()})
			continue
		}
		if df, ok := obj.GetAnnotations()[AnnotationDataFile]; ok {
			dp := path.Join(path.Dir(p), df)
			if path.Dir(dp) != path.Dir(p) {
				t.Problems = append(t.Problems, Problem{p, fmt.Sprintf("annotation %s %q: not a file beside it", AnnotationDataFile, df)})
				continue
			}
			ct, ok := files[dp]
			switch {
			case !ok:
				t.Problems = append(t.Problems, Problem{p, "encrypted data file " + df + " is missing"})
			case len(opts.Identities) == 0:
				t.Undecrypted = append(t.Undecrypted, dp)
			default:
				if err := attachData(obj, ct, opts.Identities); err != nil {
					t.Problems = append(t.Problems, Problem{dp, err.Error()})
				}
			}
		}
		stripBackupAnnotations(obj)
		t.Items = append(t.Items, Item{Path: p, Object: obj})
	}

	rels, probs, undec := loadReleases(files, opts.Identities)
	t.Releases = rels
	t.Problems = append(t.Problems, probs...)
	t.Undecrypted = append(t.Undecrypted, undec...)
	sort.Slice(t.Problems, func(i, j int) bool { return t.Problems[i].String() < t.Problems[j].String() })
	sort.Strings(t.Undecrypted)
	if len(t.Problems) > 0 {
		t.Partial = true
	}
	return t, nil
}

// owned reports whether a path is one the writer creates (others, such as
// .git or a README, may live beside a backup in a git checkout).
func owned(p string) bool {
	switch {
	case p == ManifestFile, p == InventoryFile, p == RecreateFile, p == HMACKeyFile:
		return true
	case strings.HasPrefix(p, "cluster/"), strings.HasPrefix(p, "namespaces/"), strings.HasPrefix(p, "helm/"):
		return true
	}
	return false
}

func decodeObject(data []byte) (*unstructured.Unstructured, error) {
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	obj := &unstructured.Unstructured{Object: m}
	if obj.GetKind() == "" || obj.GetAPIVersion() == "" || obj.GetName() == "" {
		return nil, errors.New("decode: not a Kubernetes object (apiVersion, kind or metadata.name missing)")
	}
	return obj, nil
}

// attachData decrypts a data file and sets its fields (data, binaryData) on obj.
func attachData(obj *unstructured.Unstructured, ciphertext []byte, ids []age.Identity) error {
	plain, err := decrypt(ciphertext, ids)
	if err != nil {
		return fmt.Errorf("decrypt: %w", err)
	}
	var fields map[string]any
	if err := yaml.Unmarshal(plain, &fields); err != nil {
		return fmt.Errorf("decode decrypted data: %w", err)
	}
	for k, v := range fields {
		switch k {
		case "data", "binaryData", "stringData":
			obj.Object[k] = v
		default:
			return fmt.Errorf("decrypted data: unexpected field %q", k)
		}
	}
	return nil
}

// stripBackupAnnotations removes the annotations the writer added for
// itself, but the owners one (drift.OwnersAnnotation), which restore reads
// to link the object to its owners again and strips before applying.
func stripBackupAnnotations(obj *unstructured.Unstructured) {
	ann := obj.GetAnnotations()
	if ann == nil {
		return
	}
	for k := range ann {
		if strings.HasPrefix(k, AnnotationPrefix) && k != drift.OwnersAnnotation {
			delete(ann, k)
		}
	}
	if len(ann) == 0 {
		unstructured.RemoveNestedField(obj.Object, "metadata", "annotations")
		return
	}
	obj.SetAnnotations(ann)
}

func loadReleases(files map[string][]byte, ids []age.Identity) ([]Release, []Problem, []string) {
	var rels []Release
	var probs []Problem
	var undec []string
	for _, p := range sortedKeys(files) {
		if !strings.HasPrefix(p, "helm/") || path.Base(p) != "chart.yaml" {
			continue
		}
		dir := path.Dir(p)
		var ci ChartInfo
		if err := yaml.UnmarshalStrict(files[p], &ci); err != nil {
			probs = append(probs, Problem{p, "decode: " + err.Error()})
			continue
		}
		r := Release{Dir: dir, Namespace: ci.Namespace, Name: ci.Release, Chart: ci, Manifest: string(files[path.Join(dir, "manifest.yaml")])}
		_, r.RepositoryUnknown = files[path.Join(dir, "NOTE.md")]
		vp := path.Join(dir, "values.yaml.age")
		if ct, ok := files[vp]; ok {
			if len(ids) == 0 {
				undec = append(undec, vp)
			} else if plain, err := decrypt(ct, ids); err != nil {
				probs = append(probs, Problem{vp, "decrypt: " + err.Error()})
			} else if err := yaml.Unmarshal(plain, &r.Values); err != nil {
				probs = append(probs, Problem{vp, "decode decrypted values: " + err.Error()})
			}
		}
		rels = append(rels, r)
	}
	return rels, probs, undec
}

// readFiles reads a backup directory or .tar.gz into memory, keyed by
// slash-separated relative path.
func readFiles(ctx context.Context, from string) (map[string][]byte, error) {
	fi, err := os.Stat(from)
	if err != nil {
		return nil, fmt.Errorf("read backup: %w", err)
	}
	if fi.IsDir() {
		return readDir(ctx, from)
	}
	f, err := os.Open(from)
	if err != nil {
		return nil, fmt.Errorf("read backup: %w", err)
	}
	defer f.Close()
	return readTarball(ctx, from, f)
}

func readDir(ctx context.Context, root string) (map[string][]byte, error) {
	files := map[string][]byte{}
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && !owned(rel+"/") && !owned(rel) {
				return fs.SkipDir // .git and other neighbours
			}
			return nil
		}
		if !owned(rel) {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file (links are not followed)", rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > maxFileBytes {
			return fmt.Errorf("%s: larger than %d bytes", rel, maxFileBytes)
		}
		if total += info.Size(); total > maxTotalBytes {
			return fmt.Errorf("backup larger than %d bytes", int64(maxTotalBytes))
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read backup %s: %w", root, err)
	}
	return files, nil
}

func readTarball(ctx context.Context, name string, r io.Reader) (map[string][]byte, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read backup %s: not a gzip file: %w", name, err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read backup %s: corrupt archive after %d entries: %w", name, len(files), err)
		}
		p, err := safeEntryName(h.Name)
		if err != nil {
			return nil, fmt.Errorf("read backup %s: entry %q: %w", name, h.Name, err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return nil, fmt.Errorf("read backup %s: entry %q: only regular files and directories are allowed", name, h.Name)
		}
		if h.Size > maxFileBytes {
			return nil, fmt.Errorf("read backup %s: entry %q: larger than %d bytes", name, h.Name, maxFileBytes)
		}
		if total += h.Size; total > maxTotalBytes || len(files) >= maxFiles {
			return nil, fmt.Errorf("read backup %s: archive too large", name)
		}
		if _, dup := files[p]; dup {
			return nil, fmt.Errorf("read backup %s: entry %q appears twice", name, h.Name)
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(tr, h.Size)); err != nil {
			return nil, fmt.Errorf("read backup %s: corrupt archive at %q: %w", name, h.Name, err)
		}
		files[p] = buf.Bytes()
	}
	if err := zr.Close(); err != nil {
		return nil, fmt.Errorf("read backup %s: corrupt archive: %w", name, err)
	}
	return files, nil
}

// safeEntryName refuses absolute paths and ".." elements and returns the clean relative path.
func safeEntryName(name string) (string, error) {
	n := strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(n, "/") || filepath.IsAbs(name) || (len(n) > 1 && n[1] == ':') {
		return "", errors.New("absolute path")
	}
	for _, el := range strings.Split(n, "/") {
		if el == ".." {
			return "", errors.New(`path escapes the backup ("..")`)
		}
	}
	c := path.Clean(strings.TrimPrefix(n, "./"))
	if c == "." || c == "" {
		return "", errors.New("empty path")
	}
	return c, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
