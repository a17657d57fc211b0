// Package helmrelease decodes the release records Helm keeps in a cluster:
// Secrets of type helm.sh/release.v1 (Helm's default storage) and ConfigMaps
// labelled owner=helm (the configmap storage driver). A record holds the
// chart's metadata, the user-supplied values and the rendered manifest of
// one revision of one release.
//
// The package only decodes; it never fetches. Values may hold secrets, so
// callers must treat Release.Values like Secret data: never print it.
package helmrelease

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// SecretType is the type of the Secrets Helm stores releases in.
const SecretType = "helm.sh/release.v1"

// MaxDecodedBytes bounds the size of one decompressed release record, so a
// hostile record cannot exhaust memory. Helm's own records are limited by
// etcd's 1.5 MiB object size before compression.
const MaxDecodedBytes = 64 << 20

// StatusDeployed is the status of a release's current revision.
const StatusDeployed = "deployed"

// Release is one revision of one Helm release.
type Release struct {
	Name      string
	Namespace string
	Revision  int
	Status    string
	Chart     Chart
	// Values are the user-supplied values (helm install -f / --set), not the
	// chart's defaults. They may hold secrets.
	Values map[string]any
	// Manifest is the rendered manifest Helm applied, documents separated by
	// "---" lines, each headed by a "# Source: chart/templates/file.yaml" comment.
	Manifest string
	// Record names the Secret or ConfigMap the release was decoded from.
	Record Record
}

// Chart is the chart metadata stored with a release.
type Chart struct {
	Name         string
	Version      string
	AppVersion   string
	KubeVersion  string
	Dependencies []Dependency
}

// Dependency is one chart dependency as declared in Chart.yaml.
type Dependency struct {
	Name       string
	Version    string
	Repository string
}

// Record identifies the object a release was stored in.
type Record struct {
	Kind      string // Secret or ConfigMap
	Namespace string
	Name      string
}

func (r Record) String() string { return r.Kind + " " + r.Namespace + "/" + r.Name }

// IsRecord reports whether obj is a Helm release record.
func IsRecord(obj *unstructured.Unstructured) bool {
	if obj.GetAPIVersion() != "v1" {
		return false
	}
	switch obj.GetKind() {
	case "Secret":
		t, _, _ := unstructured.NestedString(obj.Object, "type")
		return t == SecretType
	case "ConfigMap":
		return obj.GetLabels()["owner"] == "helm" && strings.HasPrefix(obj.GetName(), "sh.helm.release.v1.")
	}
	return false
}

// Decode decodes a release record. obj must satisfy IsRecord.
func Decode(obj *unstructured.Unstructured) (*Release, error) {
	rec := Record{Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
	if !IsRecord(obj) {
		return nil, fmt.Errorf("%s is not a Helm release record", rec)
	}
	var payload string
	switch rec.Kind {
	case "Secret":
		// Secret data is base64 on the wire; Helm's payload is base64 again.
		raw, _, _ := unstructured.NestedString(obj.Object, "data", "release")
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: data.release is not base64: %v", rec, err)
		}
		payload = string(b)
	case "ConfigMap":
		payload, _, _ = unstructured.NestedString(obj.Object, "data", "release")
	}
	if payload == "" {
		return nil, fmt.Errorf("%s: no release data", rec)
	}
	r, err := decodePayload(payload)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", rec, err)
	}
	r.Record = rec
	if r.Namespace == "" {
		r.Namespace = rec.Namespace
	}
	if r.Status == "" {
		r.Status = obj.GetLabels()["status"]
	}
	if r.Revision == 0 {
		r.Revision, _ = strconv.Atoi(obj.GetLabels()["version"])
	}
	return r, nil
}

var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// decodePayload decodes Helm's encoding: base64 of (optionally gzipped) JSON.
func decodePayload(payload string) (*Release, error) {
	b, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("release payload is not base64: %v", err)
	}
	if bytes.HasPrefix(b, gzipMagic) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("release payload: %v", err)
		}
		defer zr.Close()
		b, err = io.ReadAll(io.LimitReader(zr, MaxDecodedBytes+1))
		if err != nil {
			return nil, fmt.Errorf("release payload: %v", err)
		}
		if len(b) > MaxDecodedBytes {
			return nil, fmt.Errorf("release payload is larger than %d MiB uncompressed", MaxDecodedBytes>>20)
		}
	}
	var w wireRelease
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("release payload is not a Helm release: %v", err)
	}
	r := &Release{
		Name:      w.Name,
		Namespace: w.Namespace,
		Revision:  w.Version,
		Values:    w.Config,
		Manifest:  w.Manifest,
	}
	if w.Info != nil {
		r.Status = w.Info.Status
	}
	if w.Chart != nil && w.Chart.Metadata != nil {
		m := w.Chart.Metadata
		r.Chart = Chart{Name: m.Name, Version: m.Version, AppVersion: m.AppVersion, KubeVersion: m.KubeVersion}
		for _, d := range m.Dependencies {
			if d != nil {
				r.Chart.Dependencies = append(r.Chart.Dependencies, Dependency{Name: d.Name, Version: d.Version, Repository: d.Repository})
			}
		}
	}
	return r, nil
}

// The subset of Helm's JSON release encoding shipshape reads.
type wireRelease struct {
	Name      string         `json:"name"`
	Namespace string         `json:"namespace"`
	Version   int            `json:"version"`
	Config    map[string]any `json:"config"`
	Manifest  string         `json:"manifest"`
	Info      *struct {
		Status string `json:"status"`
	} `json:"info"`
	Chart *struct {
		Metadata *struct {
			Name         string `json:"name"`
			Version      string `json:"version"`
			AppVersion   string `json:"appVersion"`
			KubeVersion  string `json:"kubeVersion"`
			Dependencies []*struct {
				Name       string `json:"name"`
				Version    string `json:"version"`
				Repository string `json:"repository"`
			} `json:"dependencies"`
		} `json:"metadata"`
	} `json:"chart"`
}

// Problem is a record that could not be decoded.
type Problem struct {
	Record Record
	Err    error
}

// Latest decodes every release record among objs and returns, for each
// release (namespace and name), its latest deployed revision, sorted by
// namespace and name. A release with no deployed revision (every revision
// failed or pending) is represented by its highest revision. Records that
// cannot be decoded are returned as problems; they never stop the others.
func Latest(objs []*unstructured.Unstructured) ([]*Release, []Problem) {
	type key struct{ ns, name string }
	best := map[key]*Release{}
	var problems []Problem
	for _, o := range objs {
		if !IsRecord(o) {
			continue
		}
		r, err := Decode(o)
		if err != nil {
			problems = append(problems, Problem{Record: Record{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}, Err: err})
			continue
		}
		k := key{r.Namespace, r.Name}
		if cur, ok := best[k]; !ok || better(r, cur) {
			best[k] = r
		}
	}
	out := make([]*Release, 0, len(best))
	for _, r := range best {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Release) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	slices.SortFunc(problems, func(a, b Problem) int { return strings.Compare(a.Record.String(), b.Record.String()) })
	return out, problems
}

// better reports whether r should replace cur as the release's chosen revision.
func better(r, cur *Release) bool {
	rd, cd := r.Status == StatusDeployed, cur.Status == StatusDeployed
	if rd != cd {
		return rd
	}
	return r.Revision > cur.Revision
}
