package rbac

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// The decoders below read the few fields the checks need straight from the
// unstructured maps: the reflection-based converter was most of the checks'
// run time on large inputs. A field of the wrong type is an error naming it.

func isRBAC(obj map[string]any) bool {
	av, _ := obj["apiVersion"].(string)
	return strings.HasPrefix(av, rbacGroup+"/")
}

func meta(obj map[string]any) (name, namespace string, labels map[string]string, err error) {
	md, _ := obj["metadata"].(map[string]any)
	name, _ = md["name"].(string)
	namespace, _ = md["namespace"].(string)
	if l, ok := md["labels"].(map[string]any); ok {
		labels = make(map[string]string, len(l))
		for k, v := range l {
			s, ok := v.(string)
			if !ok {
				return "", "", nil, fmt.Errorf("metadata.labels.%s: want a string", k)
			}
			labels[k] = s
		}
	}
	return name, namespace, labels, nil
}

func stringList(m map[string]any, field, where string) ([]string, error) {
	v, ok := m[field]
	if !ok || v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s.%s: want a list of strings", where, field)
	}
	out := make([]string, 0, len(l))
	for i, x := range l {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s.%s[%d]: want a string", where, field, i)
		}
		out = append(out, s)
	}
	return out, nil
}

func decodeRules(obj map[string]any) ([]rbacv1.PolicyRule, error) {
	v, ok := obj["rules"]
	if !ok || v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("rules: want a list")
	}
	out := make([]rbacv1.PolicyRule, 0, len(l))
	for i, x := range l {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("rules[%d]: want a mapping", i)
		}
		where := fmt.Sprintf("rules[%d]", i)
		var r rbacv1.PolicyRule
		var err error
		for _, f := range []struct {
			name string
			into *[]string
		}{{"verbs", &r.Verbs}, {"apiGroups", &r.APIGroups}, {"resources", &r.Resources}, {"resourceNames", &r.ResourceNames}, {"nonResourceURLs", &r.NonResourceURLs}} {
			if *f.into, err = stringList(m, f.name, where); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func decodeAggregation(obj map[string]any) (*rbacv1.AggregationRule, error) {
	v, ok := obj["aggregationRule"].(map[string]any)
	if !ok {
		return nil, nil
	}
	var ar rbacv1.AggregationRule
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(v, &ar); err != nil {
		return nil, fmt.Errorf("aggregationRule: %w", err)
	}
	return &ar, nil
}

func decodeBinding(obj map[string]any) (rbacv1.RoleRef, []rbacv1.Subject, error) {
	var ref rbacv1.RoleRef
	rm, ok := obj["roleRef"].(map[string]any)
	if !ok {
		return ref, nil, fmt.Errorf("roleRef: want a mapping")
	}
	ref.APIGroup, _ = rm["apiGroup"].(string)
	ref.Kind, _ = rm["kind"].(string)
	ref.Name, _ = rm["name"].(string)
	v, ok := obj["subjects"]
	if !ok || v == nil {
		return ref, nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return ref, nil, fmt.Errorf("subjects: want a list")
	}
	subs := make([]rbacv1.Subject, 0, len(l))
	for i, x := range l {
		m, ok := x.(map[string]any)
		if !ok {
			return ref, nil, fmt.Errorf("subjects[%d]: want a mapping", i)
		}
		var s rbacv1.Subject
		s.Kind, _ = m["kind"].(string)
		s.APIGroup, _ = m["apiGroup"].(string)
		s.Name, _ = m["name"].(string)
		s.Namespace, _ = m["namespace"].(string)
		subs = append(subs, s)
	}
	return ref, subs, nil
}
