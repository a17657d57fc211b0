package cluster

import (
	"bytes"
	"context"
	"errors"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

// TestGuardCAAndWebhookBundle: the first caller creates the CA Secret, later
// callers (other replicas) get the same CA, and the webhook's caBundle is
// set once and then left alone.
func TestGuardCAAndWebhookBundle(t *testing.T) {
	env := sandboxtest.Get(t)
	cs := env.Clientset(t)
	ctx := context.Background()
	ns := "guard-ca-" + rand.String(5)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	target := &Target{Config: env.Config(), Namespace: ns, Host: env.Config().Host}

	calls := 0
	gen := func(c, k string) func() ([]byte, []byte, error) {
		return func() ([]byte, []byte, error) { calls++; return []byte(c), []byte(k), nil }
	}
	c1, k1, err := GuardCA(ctx, target, ns, "guard-ca", gen("cert-1", "key-1"))
	if err != nil {
		t.Fatal(err)
	}
	c2, k2, err := GuardCA(ctx, target, ns, "guard-ca", gen("cert-2", "key-2"))
	if err != nil {
		t.Fatal(err)
	}
	if string(c1) != "cert-1" || string(k1) != "key-1" || !bytes.Equal(c1, c2) || !bytes.Equal(k1, k2) || calls != 1 {
		t.Errorf("got %q/%q then %q/%q after %d generations; want the first CA twice, generated once", c1, k1, c2, k2, calls)
	}
	if _, _, err := GuardCA(ctx, target, ns, "guard-ca-x", func() ([]byte, []byte, error) { return nil, nil, errors.New("boom") }); err == nil {
		t.Error("a failing generator must fail GuardCA")
	}

	none := admissionregistrationv1.SideEffectClassNone
	url := "https://127.0.0.1:1/validate"
	hook := func(name string) admissionregistrationv1.ValidatingWebhook {
		return admissionregistrationv1.ValidatingWebhook{Name: name, ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url},
			SideEffects: &none, AdmissionReviewVersions: []string{"v1"},
			// Selects nothing, so that it never affects other tests.
			ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"never": rand.String(8)}}}
	}
	name := "guard-bundle-" + rand.String(5)
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Webhooks: []admissionregistrationv1.ValidatingWebhook{hook("a.shipshape.dev"), hook("b.shipshape.dev")},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	pem := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	for i, want := range []bool{true, false} {
		changed, err := SetWebhookCABundle(ctx, target, name, pem)
		if err != nil {
			t.Fatal(err)
		}
		if changed != want {
			t.Errorf("call %d: changed=%v, want %v", i+1, changed, want)
		}
	}
	got, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range got.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, pem) {
			t.Errorf("webhook %s caBundle %q", w.Name, w.ClientConfig.CABundle)
		}
	}
	if _, err := SetWebhookCABundle(ctx, target, "no-such-"+name, pem); err == nil {
		t.Error("a missing configuration must be an error")
	}
}
