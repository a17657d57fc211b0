package upgrade

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/shipshape-dev/shipshape/internal/yamledit"
)

// FixNote is what Fix did, or could not do, with one object.
type FixNote struct {
	// Line is the line of the object's apiVersion in the file.
	Line int
	// Object is "Kind/name".
	Object string
	// From and To are the apiVersions; To is empty when nothing was converted.
	From, To string
	// Message says what moved besides the apiVersion, or what to do instead.
	Message string
}

// FixResult lists the objects Fix converted and those it left alone.
type FixResult struct {
	Converted []FixNote
	Manual    []FixNote
}

// manualError says an object cannot be converted mechanically, and what to do.
type manualError struct{ advice string }

func (e *manualError) Error() string { return e.advice }

func manual(format string, a ...any) error { return &manualError{fmt.Sprintf(format, a...)} }

// convertFunc rewrites one document's root mapping (apiVersion excluded) and
// returns a note on what else moved.
type convertFunc func(root *yaml.Node) (string, error)

// conversion describes how to move one kind from a deprecated apiVersion to
// its replacement.
type conversion struct {
	to      string
	convert convertFunc
}

// conversionFor returns the conversion of an apiVersion and kind, if Fix knows one.
func conversionFor(apiVersion, kind string) (conversion, bool) {
	key := apiVersion + " " + kind
	switch {
	case key == "extensions/v1beta1 Ingress" || key == "networking.k8s.io/v1beta1 Ingress":
		return conversion{"networking.k8s.io/v1", convertIngress}, true
	case (apiVersion == "extensions/v1beta1" || apiVersion == "apps/v1beta1" || apiVersion == "apps/v1beta2") &&
		(kind == "Deployment" || kind == "DaemonSet" || kind == "ReplicaSet" || kind == "StatefulSet"):
		return conversion{"apps/v1", func(root *yaml.Node) (string, error) { return convertWorkload(root, apiVersion, kind) }}, true
	case key == "autoscaling/v2beta1 HorizontalPodAutoscaler":
		return conversion{"autoscaling/v2", convertHPA}, true
	case strings.HasPrefix(apiVersion, "admissionregistration.k8s.io/v1beta1") && (kind == "MutatingWebhookConfiguration" || kind == "ValidatingWebhookConfiguration"):
		return conversion{"admissionregistration.k8s.io/v1", convertWebhooks}, true
	case (apiVersion == "flowcontrol.apiserver.k8s.io/v1beta1" || apiVersion == "flowcontrol.apiserver.k8s.io/v1beta2") && kind == "PriorityLevelConfiguration":
		return conversion{"flowcontrol.apiserver.k8s.io/v1", convertPriorityLevel}, true
	case key == "discovery.k8s.io/v1beta1 EndpointSlice":
		return conversion{"discovery.k8s.io/v1", convertEndpointSlice}, true
	case key == "certificates.k8s.io/v1beta1 CertificateSigningRequest":
		return conversion{"certificates.k8s.io/v1", convertCSR}, true
	case key == "policy/v1beta1 PodDisruptionBudget":
		return conversion{"policy/v1", convertPDB}, true
	}
	if to, ok := renameOnly[key]; ok {
		return conversion{to, func(*yaml.Node) (string, error) { return "", nil }}, true
	}
	return conversion{}, false
}

// renameOnly are the kinds whose fields did not change: only the apiVersion moves.
var renameOnly = map[string]string{
	"networking.k8s.io/v1beta1 IngressClass":                          "networking.k8s.io/v1",
	"extensions/v1beta1 NetworkPolicy":                                "networking.k8s.io/v1",
	"batch/v1beta1 CronJob":                                           "batch/v1",
	"batch/v2alpha1 CronJob":                                          "batch/v1",
	"autoscaling/v2beta2 HorizontalPodAutoscaler":                     "autoscaling/v2",
	"rbac.authorization.k8s.io/v1beta1 ClusterRole":                   "rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1beta1 ClusterRoleBinding":            "rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1beta1 Role":                          "rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1beta1 RoleBinding":                   "rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1alpha1 ClusterRole":                  "rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1alpha1 ClusterRoleBinding":           "rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1alpha1 Role":                         "rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1alpha1 RoleBinding":                  "rbac.authorization.k8s.io/v1",
	"scheduling.k8s.io/v1beta1 PriorityClass":                         "scheduling.k8s.io/v1",
	"scheduling.k8s.io/v1alpha1 PriorityClass":                        "scheduling.k8s.io/v1",
	"storage.k8s.io/v1beta1 StorageClass":                             "storage.k8s.io/v1",
	"storage.k8s.io/v1beta1 CSIDriver":                                "storage.k8s.io/v1",
	"storage.k8s.io/v1beta1 CSINode":                                  "storage.k8s.io/v1",
	"storage.k8s.io/v1beta1 VolumeAttachment":                         "storage.k8s.io/v1",
	"storage.k8s.io/v1alpha1 VolumeAttachment":                        "storage.k8s.io/v1",
	"storage.k8s.io/v1beta1 CSIStorageCapacity":                       "storage.k8s.io/v1",
	"storage.k8s.io/v1alpha1 CSIStorageCapacity":                      "storage.k8s.io/v1",
	"storage.k8s.io/v1beta1 VolumeAttributesClass":                    "storage.k8s.io/v1",
	"storage.k8s.io/v1alpha1 VolumeAttributesClass":                   "storage.k8s.io/v1",
	"coordination.k8s.io/v1beta1 Lease":                               "coordination.k8s.io/v1",
	"node.k8s.io/v1beta1 RuntimeClass":                                "node.k8s.io/v1",
	"events.k8s.io/v1beta1 Event":                                     "events.k8s.io/v1",
	"apiregistration.k8s.io/v1beta1 APIService":                       "apiregistration.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1beta1 FlowSchema":                 "flowcontrol.apiserver.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1beta2 FlowSchema":                 "flowcontrol.apiserver.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema":                 "flowcontrol.apiserver.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1beta3 PriorityLevelConfiguration": "flowcontrol.apiserver.k8s.io/v1",
	"networking.k8s.io/v1beta1 IPAddress":                             "networking.k8s.io/v1",
	"networking.k8s.io/v1beta1 ServiceCIDR":                           "networking.k8s.io/v1",
}

// manualAdvice is what to do for deprecated kinds Fix cannot convert.
var manualAdvice = map[string]string{
	"PodSecurityPolicy": "PodSecurityPolicy has no replacement API: label namespaces for Pod Security Admission " +
		"(pod-security.kubernetes.io/enforce: baseline or restricted) or use a policy engine, then delete the policy",
	"CustomResourceDefinition": "apiextensions.k8s.io/v1 needs a structural schema per version (spec.versions[].schema.openAPIV3Schema) " +
		"and moves validation, subresources and additionalPrinterColumns into each version: write them, preserveUnknownFields: false, and test",
	"ThirdPartyResource": "rewrite it as a CustomResourceDefinition (apiextensions.k8s.io/v1)",
	"PodPreset":          "PodPreset has no replacement: put the settings into the pod templates or use a mutating admission webhook",
}

// Fix rewrites the objects of one YAML file that use an API deprecated or
// removed at target to the replacement, where the conversion is known,
// editing YAML nodes so that comments, key order and formatting stay. It
// returns the new file (equal to src when nothing changed) and what it did.
// Objects inside a kind: List are not converted and are reported.
func Fix(path string, src []byte, target Version) ([]byte, FixResult, error) {
	var res FixResult
	t, err := Data()
	if err != nil {
		return nil, res, err
	}
	f, err := yamledit.Parse(path, src)
	if err != nil {
		return nil, res, err
	}
	for _, doc := range f.Documents() {
		root := doc.Root()
		if root == nil || root.Kind != yaml.MappingNode {
			continue
		}
		av, kind := scalar(root, "apiVersion"), scalar(root, "kind")
		if kind == "List" {
			if items := yamledit.Lookup(root, "items"); items != nil && len(items.Content) > 0 {
				res.Manual = append(res.Manual, FixNote{Line: root.Line, Object: "List", From: av,
					Message: "objects inside a kind: List are not converted; split the list into documents first"})
			}
			continue
		}
		a, ok := t.Lookup(av, kind)
		if !ok || at(a, target) == statusOK {
			continue
		}
		line := root.Line
		if n := yamledit.Lookup(root, "apiVersion"); n != nil {
			line = n.Line
		}
		note := FixNote{Line: line, Object: kind + "/" + scalar(yamledit.Lookup(root, "metadata"), "name"), From: av}
		conv, ok := conversionFor(av, kind)
		if !ok {
			note.Message = manualAdvice[kind]
			if note.Message == "" {
				note.Message = "no mechanical conversion known"
				if a.Replacement != "" {
					note.Message += "; move it to " + a.Replacement + " by hand"
				}
			}
			res.Manual = append(res.Manual, note)
			continue
		}
		// Convert a copy first, so that an object that cannot be converted
		// is left exactly as it was; then the document itself.
		_, err := conv.convert(detach(root))
		var me *manualError
		if errors.As(err, &me) {
			note.Message = me.advice
			res.Manual = append(res.Manual, note)
			continue
		}
		if err != nil {
			note.Message = "cannot convert: " + err.Error()
			res.Manual = append(res.Manual, note)
			continue
		}
		msg, err := conv.convert(root)
		if err != nil {
			return nil, res, fmt.Errorf("%s:%d: convert %s: %w", path, line, note.Object, err)
		}
		if err := yamledit.SetScalar(root, "apiVersion", conv.to); err != nil {
			return nil, res, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		note.To, note.Message = conv.to, msg
		res.Converted = append(res.Converted, note)
	}
	out, err := f.Bytes()
	if err != nil {
		return nil, res, fmt.Errorf("%s: %w", path, err)
	}
	return out, res, nil
}

// scalar returns the string value of key in mapping m, or "".
func scalar(m *yaml.Node, key string) string {
	n := yamledit.Lookup(m, key)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// detach deep-copies n without its positions, for placing a value at a new
// spot in the tree; comments stay with it.
func detach(n *yaml.Node) *yaml.Node {
	c := *n
	c.Line, c.Column = 0, 0
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = detach(k)
	}
	return &c
}

// newMap builds a mapping from key, value pairs; nil values are left out.
func newMap(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		v, _ := kv[i+1].(*yaml.Node)
		if v == nil {
			continue
		}
		m.Content = append(m.Content, yamledit.Key(kv[i].(string)), v)
	}
	return m
}

// take removes key from mapping m and returns a detached copy of its value, or nil.
func take(m *yaml.Node, key string) *yaml.Node {
	v := yamledit.Lookup(m, key)
	if v == nil {
		return nil
	}
	if _, err := yamledit.Delete(m, key); err != nil {
		return nil
	}
	return detach(v)
}

// hasAny reports whether mapping m has any of the keys.
func hasAny(m *yaml.Node, keys ...string) bool {
	for _, k := range keys {
		if yamledit.Lookup(m, k) != nil {
			return true
		}
	}
	return false
}

func asMapping(n *yaml.Node, what string) (*yaml.Node, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return nil, manual("%s uses a YAML anchor or alias; convert it by hand", what)
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s is not a mapping", what)
	}
	return n, nil
}

func items(n *yaml.Node, what string) ([]*yaml.Node, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return nil, manual("%s uses a YAML anchor or alias; convert it by hand", what)
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s is not a list", what)
	}
	return n.Content, nil
}

// convertIngressBackend turns {serviceName, servicePort} into
// {service: {name, port: {number|name}}}, in place of serviceName.
func convertIngressBackend(b *yaml.Node, what string) error {
	b, err := asMapping(b, what)
	if err != nil || b == nil {
		return err
	}
	if !hasAny(b, "serviceName", "servicePort") {
		return nil // a resource backend is unchanged
	}
	name := yamledit.Lookup(b, "serviceName")
	port := yamledit.Lookup(b, "servicePort")
	if name == nil || port == nil || name.Kind != yaml.ScalarNode || port.Kind != yaml.ScalarNode {
		return manual("%s: serviceName and servicePort must both be set", what)
	}
	portKey := "number"
	if port.Tag != "!!int" {
		portKey = "name"
	}
	svc := newMap("name", detach(name), "port", newMap(portKey, detach(port)))
	if err := yamledit.Rename(b, "serviceName", "service"); err != nil {
		return err
	}
	if err := yamledit.Set(b, "service", svc); err != nil {
		return err
	}
	_, err = yamledit.Delete(b, "servicePort")
	return err
}

func convertIngress(root *yaml.Node) (string, error) {
	spec, err := asMapping(yamledit.Lookup(root, "spec"), "spec")
	if err != nil || spec == nil {
		return "", err
	}
	var moved []string
	if yamledit.Lookup(spec, "backend") != nil {
		if err := yamledit.Rename(spec, "backend", "defaultBackend"); err != nil {
			return "", err
		}
		if err := convertIngressBackend(yamledit.Lookup(spec, "defaultBackend"), "spec.defaultBackend"); err != nil {
			return "", err
		}
		moved = append(moved, "spec.backend → spec.defaultBackend")
	}
	rules, err := items(yamledit.Lookup(spec, "rules"), "spec.rules")
	if err != nil {
		return "", err
	}
	added := 0
	for i, r := range rules {
		paths, err := items(yamledit.Lookup(r, "http", "paths"), fmt.Sprintf("spec.rules[%d].http.paths", i))
		if err != nil {
			return "", err
		}
		for j, p := range paths {
			what := fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j)
			if _, err := asMapping(p, what); err != nil {
				return "", err
			}
			if err := convertIngressBackend(yamledit.Lookup(p, "backend"), what+".backend"); err != nil {
				return "", err
			}
			if yamledit.Lookup(p, "pathType") == nil {
				after := ""
				if yamledit.Lookup(p, "path") != nil {
					after = "path"
				}
				if err := yamledit.InsertAfter(p, after, "pathType", yamledit.String("ImplementationSpecific")); err != nil {
					return "", err
				}
				added++
			}
		}
	}
	moved = append(moved, "serviceName/servicePort → service.name/service.port")
	if added > 0 {
		moved = append(moved, fmt.Sprintf("pathType: ImplementationSpecific added to %d path(s), the v1beta1 behaviour (consider Prefix or Exact)", added))
	}
	return strings.Join(moved, "; "), nil
}

func convertWorkload(root *yaml.Node, apiVersion, kind string) (string, error) {
	spec, err := asMapping(yamledit.Lookup(root, "spec"), "spec")
	if err != nil {
		return "", err
	}
	if spec == nil {
		return "", manual("no spec: apps/v1 requires spec.selector and spec.template")
	}
	var notes []string
	if yamledit.Lookup(spec, "selector") == nil {
		labels := yamledit.Lookup(spec, "template", "metadata", "labels")
		if labels == nil || labels.Kind != yaml.MappingNode || len(labels.Content) == 0 {
			return "", manual("apps/v1 requires spec.selector and the pod template has no labels to derive it from; add both")
		}
		if labels.Anchor != "" || labels.Kind == yaml.AliasNode {
			return "", manual("the pod template labels use a YAML anchor; add spec.selector by hand")
		}
		sel := newMap("matchLabels", detach(labels))
		sel.Content[1].HeadComment, sel.Content[1].LineComment, sel.Content[1].FootComment = "", "", ""
		after := ""
		if yamledit.Lookup(spec, "replicas") != nil {
			after = "replicas"
		}
		if err := yamledit.InsertAfter(spec, after, "selector", sel); err != nil {
			return "", err
		}
		notes = append(notes, "spec.selector.matchLabels added from the pod template's labels (apps/v1 requires it and it is immutable)")
	}
	if apiVersion == "extensions/v1beta1" || apiVersion == "apps/v1beta1" {
		if ok, _ := yamledit.Delete(spec, "rollbackTo"); ok {
			notes = append(notes, "spec.rollbackTo removed (apps/v1 has no rollback field; use kubectl rollout undo)")
		}
		if ok, _ := yamledit.Delete(spec, "templateGeneration"); ok {
			notes = append(notes, "spec.templateGeneration removed")
		}
	}
	// The old versions defaulted these update strategies to OnDelete;
	// apps/v1 defaults to RollingUpdate. Keep the behaviour explicit.
	if (kind == "DaemonSet" && apiVersion == "extensions/v1beta1") || (kind == "StatefulSet" && apiVersion == "apps/v1beta1") {
		if yamledit.Lookup(spec, "updateStrategy") == nil {
			if err := yamledit.Set(spec, "updateStrategy", newMap("type", yamledit.String("OnDelete"))); err != nil {
				return "", err
			}
			notes = append(notes, "updateStrategy: OnDelete pinned (the old default; apps/v1 defaults to RollingUpdate)")
		}
	}
	return strings.Join(notes, "; "), nil
}

// metricTarget builds an autoscaling/v2 MetricTarget.
func metricTarget(typ, key string, v *yaml.Node) *yaml.Node {
	return newMap("type", yamledit.String(typ), key, v)
}

func convertHPA(root *yaml.Node) (string, error) {
	ms, err := items(yamledit.Lookup(root, "spec", "metrics"), "spec.metrics")
	if err != nil {
		return "", err
	}
	for i, m := range ms {
		what := fmt.Sprintf("spec.metrics[%d]", i)
		typ := scalar(m, "type")
		src, err := asMapping(yamledit.Lookup(m, strings.ToLower(typ[:min(1, len(typ))])+typ[min(1, len(typ)):]), what)
		if err != nil {
			return "", err
		}
		if src == nil {
			return "", manual("%s: type %q without its %s block", what, typ, strings.ToLower(typ))
		}
		switch typ {
		case "Resource":
			switch {
			case yamledit.Lookup(src, "targetAverageUtilization") != nil:
				err = yamledit.Set(src, "target", metricTarget("Utilization", "averageUtilization", take(src, "targetAverageUtilization")))
			case yamledit.Lookup(src, "targetAverageValue") != nil:
				err = yamledit.Set(src, "target", metricTarget("AverageValue", "averageValue", take(src, "targetAverageValue")))
			}
		case "Pods":
			metric := newMap("name", take(src, "metricName"), "selector", take(src, "selector"))
			tgt := metricTarget("AverageValue", "averageValue", take(src, "targetAverageValue"))
			if err = yamledit.InsertAfter(src, "", "metric", metric); err == nil {
				err = yamledit.Set(src, "target", tgt)
			}
		case "Object":
			if err = yamledit.Rename(src, "target", "describedObject"); err != nil {
				return "", manual("%s: object metric without target", what)
			}
			metric := newMap("name", take(src, "metricName"), "selector", take(src, "selector"))
			var tgt *yaml.Node
			if v := take(src, "averageValue"); v != nil {
				tgt = metricTarget("AverageValue", "averageValue", v)
				_, _ = yamledit.Delete(src, "targetValue")
			} else {
				tgt = metricTarget("Value", "value", take(src, "targetValue"))
			}
			if err = yamledit.InsertAfter(src, "describedObject", "metric", metric); err == nil {
				err = yamledit.Set(src, "target", tgt)
			}
		case "External":
			metric := newMap("name", take(src, "metricName"), "selector", take(src, "metricSelector"))
			var tgt *yaml.Node
			if v := take(src, "targetAverageValue"); v != nil {
				tgt = metricTarget("AverageValue", "averageValue", v)
				_, _ = yamledit.Delete(src, "targetValue")
			} else {
				tgt = metricTarget("Value", "value", take(src, "targetValue"))
			}
			if err = yamledit.InsertAfter(src, "", "metric", metric); err == nil {
				err = yamledit.Set(src, "target", tgt)
			}
		default:
			return "", manual("%s: metric type %q is not known to the conversion", what, typ)
		}
		if err != nil {
			return "", err
		}
	}
	if len(ms) == 0 {
		return "", nil
	}
	return "spec.metrics moved to the v2 metric/target structure (e.g. targetAverageUtilization → target.averageUtilization)", nil
}

func convertWebhooks(root *yaml.Node) (string, error) {
	hooks, err := items(yamledit.Lookup(root, "webhooks"), "webhooks")
	if err != nil {
		return "", err
	}
	for i, h := range hooks {
		switch se := scalar(h, "sideEffects"); se {
		case "None", "NoneOnDryRun":
		default:
			return "", manual("webhooks[%d].sideEffects is %q: admissionregistration.k8s.io/v1 accepts only None or NoneOnDryRun; "+
				"decide whether the webhook has side effects, set it, and convert again", i, orEmpty(se))
		}
	}
	pinned := false
	for _, h := range hooks {
		// v1 changed these defaults; pin the v1beta1 ones so behaviour stays.
		for _, d := range []struct {
			key string
			val *yaml.Node
		}{
			{"failurePolicy", yamledit.String("Ignore")},
			{"matchPolicy", yamledit.String("Exact")},
			{"timeoutSeconds", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "30"}},
			{"admissionReviewVersions", &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{yamledit.String("v1beta1")}}},
		} {
			if yamledit.Lookup(h, d.key) == nil {
				if err := yamledit.Set(h, d.key, d.val); err != nil {
					return "", err
				}
				pinned = true
			}
		}
	}
	if pinned {
		return "the v1beta1 defaults pinned where unset (failurePolicy Ignore, matchPolicy Exact, timeoutSeconds 30, admissionReviewVersions [v1beta1]); review them", nil
	}
	return "", nil
}

func orEmpty(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

func convertPriorityLevel(root *yaml.Node) (string, error) {
	lim := yamledit.Lookup(root, "spec", "limited")
	if lim == nil || yamledit.Lookup(lim, "assuredConcurrencyShares") == nil {
		return "", nil
	}
	if err := yamledit.Rename(lim, "assuredConcurrencyShares", "nominalConcurrencyShares"); err != nil {
		return "", err
	}
	return "spec.limited.assuredConcurrencyShares → nominalConcurrencyShares", nil
}

func convertEndpointSlice(root *yaml.Node) (string, error) {
	eps, err := items(yamledit.Lookup(root, "endpoints"), "endpoints")
	if err != nil {
		return "", err
	}
	n := 0
	for _, ep := range eps {
		if yamledit.Lookup(ep, "topology") != nil {
			if err := yamledit.Rename(ep, "topology", "deprecatedTopology"); err != nil {
				return "", err
			}
			n++
		}
	}
	if n == 0 {
		return "", nil
	}
	return "endpoints[].topology → deprecatedTopology (use nodeName and zone instead)", nil
}

func convertCSR(root *yaml.Node) (string, error) {
	spec := yamledit.Lookup(root, "spec")
	if scalar(spec, "signerName") == "" {
		return "", manual("certificates.k8s.io/v1 requires spec.signerName (v1beta1 defaulted one the v1 API refuses to sign); choose the signer and set it")
	}
	if yamledit.Lookup(spec, "usages") == nil {
		return "", manual("certificates.k8s.io/v1 requires spec.usages; set the key usages the signer allows")
	}
	return "", nil
}

func convertPDB(root *yaml.Node) (string, error) {
	sel := yamledit.Lookup(root, "spec", "selector")
	if sel != nil && sel.Kind == yaml.MappingNode && len(sel.Content) == 0 {
		return "", manual("spec.selector is empty: policy/v1beta1 selected no pods with it, policy/v1 selects every pod in the namespace; set a real selector first")
	}
	return "", nil
}
