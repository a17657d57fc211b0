package cluster

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// BenchmarkDecodePage measures the client's share of reading one 500-item
// page, without a server: protobuf into typed objects then converted to
// unstructured, JSON with parseJSON, and JSON with util/json (what
// parseJSON replaced). Items carry managedFields like live objects do.
func BenchmarkDecodePage(b *testing.B) {
	now := metav1.Now()
	managed := func(fields string) []metav1.ManagedFieldsEntry {
		return []metav1.ManagedFieldsEntry{{
			Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &now,
			FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fields),
		}}
	}
	cms := &corev1.ConfigMapList{}
	deps := &appsv1.DeploymentList{}
	for i := range 500 {
		meta := metav1.ObjectMeta{
			Name: fmt.Sprintf("bench-%05d", i), Namespace: "ns", UID: "0b7d2f7e-6b0e-4a53-a0a9-3a7c4a1f5e11",
			ResourceVersion: "12345", CreationTimestamp: now, Labels: map[string]string{"app": "bench"},
		}
		cms.Items = append(cms.Items, corev1.ConfigMap{
			ObjectMeta: meta,
			Data:       map[string]string{"config.yaml": "replicas: 3\nimage: registry.example/app:1.2.3\n", "index": fmt.Sprint(i)},
		})
		cms.Items[i].ManagedFields = managed(`{"f:data":{".":{},"f:config.yaml":{},"f:index":{}},"f:metadata":{"f:labels":{".":{},"f:app":{}}}}`)
		d := benchDeployment(meta.Name)
		d.ObjectMeta.Namespace, d.ObjectMeta.UID, d.ObjectMeta.ResourceVersion, d.CreationTimestamp = meta.Namespace, meta.UID, meta.ResourceVersion, now
		d.ManagedFields = managed(`{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:paused":{},"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:env":{".":{},"k:{\"name\":\"MODE\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}`)
		deps.Items = append(deps.Items, *d)
	}
	decoders := []struct {
		name   string
		format string
		decode func([]byte, snapshot.Resource) ([]*unstructured.Unstructured, error)
	}{
		{"protobuf", runtime.ContentTypeProtobuf, func(body []byte, r snapshot.Resource) ([]*unstructured.Unstructured, error) {
			typed, _, err := decodeProtobuf(body)
			if err != nil {
				return nil, err
			}
			return convertTyped(typed, r)
		}},
		{"json", runtime.ContentTypeJSON, func(body []byte, r snapshot.Resource) ([]*unstructured.Unstructured, error) {
			if _, err := jsonContinue(body); err != nil {
				return nil, err
			}
			return decodeJSON(body, r)
		}},
		{"json-utiljson", runtime.ContentTypeJSON, func(body []byte, r snapshot.Resource) ([]*unstructured.Unstructured, error) {
			var list map[string]any
			if err := utiljson.Unmarshal(body, &list); err != nil {
				return nil, err
			}
			items, _ := list["items"].([]any)
			out := make([]*unstructured.Unstructured, len(items))
			for i, it := range items {
				out[i] = &unstructured.Unstructured{Object: it.(map[string]any)}
			}
			return out, nil
		}},
	}
	for _, tc := range []struct {
		name string
		list runtime.Object
		res  snapshot.Resource
	}{
		{"configmaps", cms, snapshot.Resource{Version: "v1", Resource: "configmaps", Kind: "ConfigMap", Namespaced: true}},
		{"deployments", deps, snapshot.Resource{Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment", Namespaced: true}},
	} {
		gv, _ := schema.ParseGroupVersion(tc.res.GroupVersion())
		for _, d := range decoders {
			info, _ := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), d.format)
			body, err := runtime.Encode(scheme.Codecs.EncoderForVersion(info.Serializer, gv), tc.list)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(tc.name+"/"+d.name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					items, err := d.decode(body, tc.res)
					if err != nil || len(items) != 500 {
						b.Fatalf("decode: %d items, %v", len(items), err)
					}
				}
			})
		}
	}
}

// benchDeployment is a small but typical Deployment, scaled to zero and
// paused so that the deployment controller creates no ReplicaSet for it.
func benchDeployment(name string) *appsv1.Deployment {
	zero := int32(0)
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &zero,
			Paused:   true,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: "registry.example/app:1.2.3",
					Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
					Env:   []corev1.EnvVar{{Name: "MODE", Value: "bench"}},
				}}},
			},
		},
	}
}
