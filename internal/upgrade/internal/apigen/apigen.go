// Package apigen builds shipshape's table of deprecated and removed
// Kubernetes APIs from the prerelease-lifecycle markers that k8s.io/api
// generates for every alpha and beta type (zz_generated.prerelease-lifecycle.go),
// read from several versions of the module, plus a small hand-kept list for
// what the markers do not cover.
//
// It reads source files only: it never downloads modules (the caller names
// directories that already exist) and never flags a GA version such as v1.
package apigen

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// API is one apiVersion and kind that is deprecated, removed or scheduled
// for removal. Versions are Kubernetes minors such as "1.22".
type API struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Introduced string `json:"introduced,omitempty"`
	Deprecated string `json:"deprecated,omitempty"`
	// Removed is the first minor release that no longer serves the API, or
	// "" when no removal is scheduled.
	Removed string `json:"removed,omitempty"`
	// Replacement is "apiVersion kind" of what to use instead, or "".
	Replacement string `json:"replacement,omitempty"`
	// Source says where the row came from: "markers k8s.io/api@vX" or "hand".
	Source string `json:"source"`
}

// Module is one version of k8s.io/api unpacked on disk.
type Module struct {
	// Version is the module version, e.g. "v0.37.2"; its minor maps to
	// Kubernetes 1.<minor>.
	Version string
	// Dir is the module's root directory.
	Dir string
}

// File is the data file Generate writes.
type File struct {
	// Modules are the k8s.io/api versions read, oldest first.
	Modules []string `json:"modules"`
	APIs    []API    `json:"apis"`
	// Introduced maps each replacement ("apiVersion kind") to the release
	// its markers say it was introduced in, GA versions included.
	Introduced map[string]string `json:"introduced"`
}

// ModuleMinor returns the Kubernetes minor of a k8s.io/api version: v0.37.2 → 37.
func ModuleMinor(version string) (int, error) {
	parts := strings.Split(strings.TrimPrefix(version, "v"), ".")
	if len(parts) < 2 || parts[0] != "0" {
		return 0, fmt.Errorf("k8s.io/api version %q: want v0.MINOR.PATCH", version)
	}
	return strconv.Atoi(parts[1])
}

// marker is what one module version says about one type.
type marker struct {
	introduced, deprecated, removed string
	replacement                     string
}

type gvk struct{ apiVersion, kind string }

// Generate reads the modules and returns the data file, formatted one API
// per line so that regenerations diff well.
func Generate(mods []Module) ([]byte, error) {
	if len(mods) == 0 {
		return nil, fmt.Errorf("no k8s.io/api module versions to read")
	}
	mods = slices.Clone(mods)
	minors := map[string]int{}
	for _, m := range mods {
		n, err := ModuleMinor(m.Version)
		if err != nil {
			return nil, err
		}
		minors[m.Version] = n
	}
	slices.SortFunc(mods, func(a, b Module) int { return cmp.Compare(minors[a.Version], minors[b.Version]) })
	newest := minors[mods[len(mods)-1].Version]

	latest := map[gvk]marker{} // the newest module's markers for each type
	source := map[gvk]string{} // which module they came from
	lastSeen := map[gvk]int{}  // the newest minor whose module has the type
	for _, m := range mods {
		found, err := readModule(m.Dir)
		if err != nil {
			return nil, fmt.Errorf("read k8s.io/api@%s: %w", m.Version, err)
		}
		for k, v := range found {
			latest[k] = v
			source[k] = "markers k8s.io/api@" + m.Version
			lastSeen[k] = minors[m.Version]
		}
	}

	var apis []API
	have := map[gvk]bool{}
	for k, mk := range latest {
		if isGA(k.apiVersion) || (mk.deprecated == "" && mk.removed == "") {
			continue
		}
		removed := mk.removed
		// An alpha type that vanished from k8s.io/api before its marker's
		// removal release was no longer served from the next release on.
		if lastSeen[k] < newest {
			gone := fmt.Sprintf("1.%d", lastSeen[k]+1)
			if removed == "" || minorLess(gone, removed) {
				removed = gone
			}
		}
		a := API{APIVersion: k.apiVersion, Kind: k.kind, Introduced: mk.introduced,
			Deprecated: mk.deprecated, Removed: removed, Replacement: mk.replacement, Source: source[k]}
		if a.Replacement == "" {
			a.Replacement = handReplacements[k.apiVersion+" "+k.kind]
		}
		apis = append(apis, a)
		have[k] = true
	}
	for _, h := range handAPIs {
		if !have[gvk{h.APIVersion, h.Kind}] {
			h.Source = "hand"
			apis = append(apis, h)
		}
	}
	slices.SortFunc(apis, func(a, b API) int {
		return cmp.Or(cmp.Compare(a.APIVersion, b.APIVersion), cmp.Compare(a.Kind, b.Kind))
	})

	introduced := map[string]string{}
	for _, a := range apis {
		if a.Replacement == "" {
			continue
		}
		av, kind, _ := strings.Cut(a.Replacement, " ")
		if mk, ok := latest[gvk{av, kind}]; ok && mk.introduced != "" {
			introduced[a.Replacement] = mk.introduced
		}
	}
	keys := make([]string, 0, len(introduced))
	for k := range introduced {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	var buf bytes.Buffer
	buf.WriteString("{\n  \"modules\": [")
	for i, m := range mods {
		if i > 0 {
			buf.WriteString(", ")
		}
		fmt.Fprintf(&buf, "%q", m.Version)
	}
	buf.WriteString("],\n  \"apis\": [\n")
	for i, a := range apis {
		line, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		buf.WriteString("    ")
		buf.Write(line)
		if i < len(apis)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("  ],\n  \"introduced\": {\n")
	for i, k := range keys {
		fmt.Fprintf(&buf, "    %q: %q", k, introduced[k])
		if i < len(keys)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("  }\n}\n")
	return buf.Bytes(), nil
}

var gaVersion = regexp.MustCompile(`^v[0-9]+$`)

// isGA reports whether apiVersion ends in a stable version such as v1 or v2.
func isGA(apiVersion string) bool {
	return gaVersion.MatchString(apiVersion[strings.LastIndex(apiVersion, "/")+1:])
}

// minorLess compares two "1.N" versions.
func minorLess(a, b string) bool { return MinorOf(a) < MinorOf(b) }

// MinorOf returns N of "1.N", or -1.
func MinorOf(v string) int {
	rest, ok := strings.CutPrefix(v, "1.")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(rest)
	if err != nil {
		return -1
	}
	return n
}

var groupName = regexp.MustCompile(`GroupName\s*=\s*"([^"]*)"`)

// readModule reads every zz_generated.prerelease-lifecycle.go below dir.
func readModule(dir string) (map[gvk]marker, error) {
	out := map[gvk]marker{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != "zz_generated.prerelease-lifecycle.go" {
			return nil
		}
		pkgDir := filepath.Dir(path)
		reg, err := os.ReadFile(filepath.Join(pkgDir, "register.go"))
		if err != nil {
			return fmt.Errorf("%s: find the API group: %w", pkgDir, err)
		}
		g := groupName.FindSubmatch(reg)
		if g == nil {
			return fmt.Errorf("%s: no GroupName in register.go", pkgDir)
		}
		apiVersion := filepath.Base(pkgDir)
		if len(g[1]) > 0 {
			apiVersion = string(g[1]) + "/" + apiVersion
		}
		return readMarkers(path, apiVersion, out)
	})
	return out, err
}

// readMarkers parses one generated file: every method
// `func (in *Kind) APILifecycleX() ...` returns either `major, minor` or a
// schema.GroupVersionKind literal.
func readMarkers(path, apiVersion string, out map[gvk]marker) error {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return err
	}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 || fn.Body == nil || len(fn.Body.List) != 1 {
			continue
		}
		star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
		if !ok {
			continue
		}
		recv, ok := star.X.(*ast.Ident)
		if !ok {
			continue
		}
		ret, ok := fn.Body.List[0].(*ast.ReturnStmt)
		if !ok {
			continue
		}
		k := gvk{apiVersion, recv.Name}
		m := out[k]
		switch fn.Name.Name {
		case "APILifecycleIntroduced":
			m.introduced, err = minorOf(ret)
		case "APILifecycleDeprecated":
			m.deprecated, err = minorOf(ret)
		case "APILifecycleRemoved":
			m.removed, err = minorOf(ret)
		case "APILifecycleReplacement":
			m.replacement, err = replacementOf(ret)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %s.%s: %w", path, recv.Name, fn.Name.Name, err)
		}
		out[k] = m
	}
	return nil
}

func minorOf(ret *ast.ReturnStmt) (string, error) {
	if len(ret.Results) != 2 {
		return "", fmt.Errorf("want `return major, minor`")
	}
	var n [2]string
	for i, r := range ret.Results {
		lit, ok := r.(*ast.BasicLit)
		if !ok || lit.Kind != token.INT {
			return "", fmt.Errorf("want integer literals")
		}
		n[i] = lit.Value
	}
	return n[0] + "." + n[1], nil
}

func replacementOf(ret *ast.ReturnStmt) (string, error) {
	if len(ret.Results) != 1 {
		return "", fmt.Errorf("want one result")
	}
	lit, ok := ret.Results[0].(*ast.CompositeLit)
	if !ok {
		return "", fmt.Errorf("want a GroupVersionKind literal")
	}
	fields := map[string]string{}
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			return "", fmt.Errorf("want keyed fields")
		}
		key, ok1 := kv.Key.(*ast.Ident)
		val, ok2 := kv.Value.(*ast.BasicLit)
		if !ok1 || !ok2 || val.Kind != token.STRING {
			return "", fmt.Errorf("want string fields")
		}
		s, err := strconv.Unquote(val.Value)
		if err != nil {
			return "", err
		}
		fields[key.Name] = s
	}
	av := fields["Version"]
	if fields["Group"] != "" {
		av = fields["Group"] + "/" + av
	}
	if av == "" || fields["Kind"] == "" {
		return "", nil
	}
	return av + " " + fields["Kind"], nil
}

// DefaultVersions are the k8s.io/api versions the data file is made from:
// one per Kubernetes minor since markers began (1.19) up to the one in go.mod.
func DefaultVersions() []string {
	var vs []string
	for m := 19; m <= 36; m++ {
		vs = append(vs, fmt.Sprintf("v0.%d.0", m))
	}
	return append(vs, "v0.37.2")
}

// Modules finds the versions in the module cache rooted at modCache and
// returns them with the versions that are missing.
func Modules(modCache string, versions []string) (mods []Module, missing []string) {
	for _, v := range versions {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		dir := filepath.Join(modCache, "k8s.io", "api@"+v)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			missing = append(missing, v)
			continue
		}
		mods = append(mods, Module{Version: v, Dir: dir})
	}
	return mods, missing
}
