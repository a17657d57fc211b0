package certs

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Resources are the API resources FromSnapshot reads; a live certs scan
// lists only these.
func Resources() []schema.GroupResource {
	return []schema.GroupResource{
		{Resource: "secrets"},
		{Resource: "configmaps"},
		{Resource: "services"},
		{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations"},
		{Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"},
		{Group: "apiregistration.k8s.io", Resource: "apiservices"},
		{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
		{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"},
		{Group: "cert-manager.io", Resource: "certificates"},
	}
}

var pemCertMarker = []byte("-----BEGIN CERTIFICATE")

// FromSnapshot finds the certificates held by the objects of a snapshot,
// live or read from files: TLS Secrets and any Secret or ConfigMap value
// holding a PEM certificate, webhook, APIService and CRD conversion
// caBundles, and issued CSR certificates. It also reads the kubeadm
// validity from kube-system/kubeadm-config and the kubernetes Service's
// cluster IP.
func FromSnapshot(s *snapshot.Snapshot) *Inventory {
	// Parsing keys and certificates is CPU work; large snapshots are split
	// into one chunk per CPU, each read into its own inventory, and merged
	// in order so that the result does not depend on scheduling.
	workers := runtime.GOMAXPROCS(0)
	if len(s.Objects) < 1000 || workers < 2 {
		return fromObjects(s.Objects)
	}
	size := (len(s.Objects) + workers - 1) / workers
	parts := make([]*Inventory, workers)
	var g errgroup.Group
	for w := range workers {
		lo, hi := min(w*size, len(s.Objects)), min((w+1)*size, len(s.Objects))
		g.Go(func() error {
			parts[w] = fromObjects(s.Objects[lo:hi])
			return nil
		})
	}
	_ = g.Wait()
	inv := &Inventory{}
	for _, p := range parts {
		inv.Merge(p)
	}
	return inv
}

func fromObjects(objs []snapshot.Object) *Inventory {
	inv := &Inventory{}
	for _, o := range objs {
		fromObject(inv, o)
	}
	return inv
}

// fromObject adds what one object holds to inv.
func fromObject(inv *Inventory, o snapshot.Object) {
	gvk := o.GroupVersionKind()
	switch {
	case gvk.Group == "" && gvk.Kind == "Secret":
		secret(inv, o)
	case gvk.Group == "" && gvk.Kind == "ConfigMap":
		configMap(inv, o)
	case gvk.Group == "" && gvk.Kind == "Service":
		if o.GetNamespace() == "default" && o.GetName() == "kubernetes" {
			if ip, _, _ := unstructured.NestedString(o.Object, "spec", "clusterIP"); ip != "" && ip != "None" {
				inv.APIServerNames = append(inv.APIServerNames, ip)
			}
		}
	case gvk.Group == "admissionregistration.k8s.io" && (gvk.Kind == "ValidatingWebhookConfiguration" || gvk.Kind == "MutatingWebhookConfiguration"):
		hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
		for i, h := range hooks {
			m, ok := h.(map[string]any)
			if !ok {
				continue
			}
			name, _ := m["name"].(string)
			if name == "" {
				name = fmt.Sprint(i)
			}
			bundle, _, _ := unstructured.NestedString(m, "clientConfig", "caBundle")
			encoded(inv, o, "webhooks["+name+"].clientConfig.caBundle", bundle, true)
		}
	case gvk.Group == "apiregistration.k8s.io" && gvk.Kind == "APIService":
		bundle, _, _ := unstructured.NestedString(o.Object, "spec", "caBundle")
		encoded(inv, o, "spec.caBundle", bundle, true)
	case gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition":
		bundle, _, _ := unstructured.NestedString(o.Object, "spec", "conversion", "webhook", "clientConfig", "caBundle")
		encoded(inv, o, "spec.conversion.webhook.clientConfig.caBundle", bundle, true)
	case gvk.Group == "cert-manager.io" && gvk.Kind == "Certificate":
		certManager(inv, o)
	case gvk.Group == "certificates.k8s.io" && gvk.Kind == "CertificateSigningRequest":
		c, _, _ := unstructured.NestedString(o.Object, "status", "certificate")
		encoded(inv, o, "status.certificate", c, true)
	}
}

func objectSource(o snapshot.Object, field string) Source {
	return Source{Kind: KindObject, Path: o.Origin.Path, Line: o.Origin.Line, Object: finding.ObjectOf(o), Field: field}
}

// encoded parses a base64 value (a caBundle, a Secret data value).
func encoded(inv *Inventory, o snapshot.Object, field, value string, required bool) parsed {
	if strings.TrimSpace(value) == "" {
		return parsed{}
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		inv.Problems = append(inv.Problems, Problem{Source: objectSource(o, field), Reason: "not valid base64", Severity: finding.Medium})
		return parsed{}
	}
	return parse(inv, data, objectSource(o, field), ParseOptions{Required: required})
}

func secret(inv *Inventory, o snapshot.Object) {
	typ, _, _ := unstructured.NestedString(o.Object, "type")
	if skipSecret(typ) {
		return
	}
	data, _, _ := unstructured.NestedStringMap(o.Object, "data")
	plain, _, _ := unstructured.NestedStringMap(o.Object, "stringData")
	values := map[string][]byte{}
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil {
			inv.Problems = append(inv.Problems, Problem{Source: objectSource(o, "data."+k), Reason: "not valid base64", Severity: finding.Medium})
			continue
		}
		values[k] = b
	}
	for k, v := range plain {
		values[k] = []byte(v)
	}
	secretValues(inv, typ, values, func(field string) Source { return objectSource(o, field) })
}

// skipSecret reports whether Secrets of type typ are left unread: release
// records are compressed manifests; token Secrets hold a copy of the
// cluster CA, judged where it lives.
func skipSecret(typ string) bool {
	return typ == "helm.sh/release.v1" || typ == "kubernetes.io/service-account-token"
}

// secretValues reads a Secret's decoded values: tls.crt and tls.key of a
// TLS Secret, and any value holding a PEM certificate.
func secretValues(inv *Inventory, typ string, values map[string][]byte, source func(field string) Source) {
	tls := typ == "kubernetes.io/tls"
	var cert, key parsed
	for _, k := range sortedKeys(values) {
		v := values[k]
		switch {
		case tls && k == "tls.crt":
			cert = parse(inv, v, source(k), ParseOptions{Required: true})
		case tls && k == "tls.key":
			key = parse(inv, v, source(k), ParseOptions{Required: len(bytes.TrimSpace(v)) > 0})
		case bytes.Contains(v, pemCertMarker):
			parse(inv, v, source(k), ParseOptions{})
		}
	}
	if tls && len(values["tls.crt"]) == 0 {
		inv.Problems = append(inv.Problems, Problem{Source: source("tls.crt"), Reason: "TLS Secret without a certificate", Severity: finding.Medium})
	}
	if cert.certs > 0 && key.keys > 0 {
		inv.Pairs = append(inv.Pairs, Pair{Cert: cert.firstCert, Key: key.firstKey})
	}
}

func configMap(inv *Inventory, o snapshot.Object) {
	if o.GetName() == "kube-root-ca.crt" && o.GetNamespace() != "kube-system" {
		// The same cluster CA is copied into every namespace; kube-system's
		// copy stands for all of them.
		return
	}
	data, _, _ := unstructured.NestedStringMap(o.Object, "data")
	if o.GetNamespace() == "kube-system" && o.GetName() == "kubeadm-config" {
		if cc := data["ClusterConfiguration"]; cc != "" {
			kv, err := ParseKubeadmValidity([]byte(cc), o.GetNamespace()+"/"+o.GetName())
			if err != nil {
				inv.Problems = append(inv.Problems, Problem{Source: objectSource(o, "data.ClusterConfiguration"), Reason: err.Error(), Severity: finding.Medium})
			} else if kv != nil && inv.KubeadmConfig == nil {
				inv.KubeadmConfig = kv
			}
		}
	}
	for _, k := range sortedKeys(data) {
		if v := []byte(data[k]); bytes.Contains(v, pemCertMarker) {
			parse(inv, v, objectSource(o, k), ParseOptions{})
		}
	}
	bin, _, _ := unstructured.NestedStringMap(o.Object, "binaryData")
	for _, k := range sortedKeys(bin) {
		b, err := base64.StdEncoding.DecodeString(bin[k])
		if err == nil && bytes.Contains(b, pemCertMarker) {
			parse(inv, b, objectSource(o, "binaryData."+k), ParseOptions{})
		}
	}
}

// certManagerDefaultDuration is cert-manager's duration when spec.duration
// is not set.
const certManagerDefaultDuration = 90 * Day

func certManager(inv *Inventory, o snapshot.Object) {
	secret, _, _ := unstructured.NestedString(o.Object, "spec", "secretName")
	if secret == "" {
		return
	}
	d := certManagerDefaultDuration
	if s, _, _ := unstructured.NestedString(o.Object, "spec", "duration"); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 {
			inv.Problems = append(inv.Problems, Problem{Source: objectSource(o, "spec.duration"), Reason: fmt.Sprintf("duration %q is not a positive Go duration", s), Severity: finding.Medium})
			return
		}
		d = v
	}
	ns := o.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	inv.Requested = append(inv.Requested, Requested{Source: objectSource(o, "spec.duration"), Namespace: ns, SecretName: secret, Duration: d})
}
