package certs

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// TestCollectorResetWhileReading: Page returns before a page is read, so a
// Reset can come while the pages before it are still being read; those
// must be void all the same, however the reading and the Reset interleave.
// Pages read in any order end up in snapshot order, and Objects counts each
// object once whether it is asked before or after Inventory.
func TestCollectorResetWhileReading(t *testing.T) {
	ca := issue(t, spec{cn: "reset-ca", ca: true, lifetime: 3650 * Day}, nil)
	leaf := issue(t, spec{cn: "reset.example", dns: []string{"reset.example"}, lifetime: 365 * Day}, &ca)
	page := func(prefix string, n int) *corev1.SecretList {
		l := &corev1.SecretList{}
		for i := range n {
			l.Items = append(l.Items, corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("%s-%03d", prefix, i)},
				Type:       corev1.SecretTypeTLS,
				Data:       map[string][]byte{"tls.crt": certPEM(leaf.cert), "tls.key": keyPEM(t, leaf.key), "ca.crt": certPEM(ca.cert)},
			})
		}
		return l
	}
	void := []*corev1.SecretList{page("void-a", 120), page("void-b", 120), page("void-c", 3)}
	kept := []*corev1.SecretList{page("z", 2), page("y", 60), page("x", 1)}
	secrets := snapshot.Resource{Version: "v1", Resource: "secrets", Kind: "Secret", Namespaced: true}
	var want []string
	for _, p := range []string{"x", "y", "z"} {
		for _, l := range kept {
			for _, s := range l.Items {
				if s.Name[:1] == p {
					want = append(want, "ns/Secret/"+s.Name+" tls.crt")
				}
			}
		}
	}
	for round := range 20 {
		col := NewCollector()
		for _, l := range void {
			if err := col.Page(cluster.Page{Resource: secrets, Typed: l}); err != nil {
				t.Fatal(err)
			}
		}
		if err := col.Page(cluster.Page{Resource: secrets, Reset: true}); err != nil {
			t.Fatal(err)
		}
		for i, l := range kept {
			if err := col.Page(cluster.Page{Resource: secrets, Typed: l, Last: i == len(kept)-1}); err != nil {
				t.Fatal(err)
			}
		}
		var objects int
		if round%2 == 0 {
			objects = col.Objects()
		}
		var got []string
		for _, c := range col.Inventory().Certs {
			if c.Source.Field == "tls.crt" {
				got = append(got, c.Source.String())
			}
		}
		if round%2 == 1 {
			objects = col.Objects()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round %d: leaves (-want +got):\n%s", round, diff)
		}
		if objects != len(want) || col.Objects() != len(want) {
			t.Fatalf("round %d: Objects() = %d, then %d; want %d", round, objects, col.Objects(), len(want))
		}
	}
}
