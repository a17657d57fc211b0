package yamledit_test

import (
	"fmt"

	"github.com/shipshape-dev/shipshape/internal/yamledit"
)

// Upgrade an Ingress backend to networking.k8s.io/v1 and harden a
// container, keeping comments and layout; print the diff.
func Example() {
	src := []byte(`# web front end
apiVersion: extensions/v1beta1 # to be upgraded
kind: Ingress
spec:
  rules:
  - http:
      paths:
      - path: /
        backend:
          serviceName: web # the Service
          servicePort: 80
---
kind: Pod
spec:
  containers:
  - name: app
    image: nginx
`)
	f, err := yamledit.Parse("web.yaml", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	docs := f.Documents()

	ing := docs[0].Root()
	_ = yamledit.SetScalar(ing, "apiVersion", "networking.k8s.io/v1")
	path := yamledit.Lookup(ing, "spec", "rules", "0", "http", "paths", "0")
	backend := yamledit.Lookup(path, "backend")
	_ = yamledit.Move(backend, []string{"serviceName"}, []string{"service", "name"})
	port := yamledit.Lookup(backend, "servicePort")
	_, _ = yamledit.Delete(backend, "servicePort")
	portMap, _ := yamledit.EnsureMapping(backend, "service", "port")
	_ = yamledit.Set(portMap, "number", port)
	_ = yamledit.InsertAfter(path, "path", "pathType", yamledit.String("Prefix"))

	c := yamledit.Lookup(docs[1].Root(), "spec", "containers", "0")
	sc, _ := yamledit.EnsureMapping(c, "securityContext")
	_ = yamledit.SetValue(sc, "allowPrivilegeEscalation", false)

	out, err := f.Bytes()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(yamledit.Diff("web.yaml", src, out))
	// A fix command would now call yamledit.WriteFile("web.yaml", out).

	// Output:
	// --- a/web.yaml
	// +++ b/web.yaml
	// @@ -1,17 +1,22 @@
	//  # web front end
	// -apiVersion: extensions/v1beta1 # to be upgraded
	// +apiVersion: networking.k8s.io/v1 # to be upgraded
	//  kind: Ingress
	//  spec:
	//    rules:
	//    - http:
	//        paths:
	//        - path: /
	// +        pathType: Prefix
	//          backend:
	// -          serviceName: web # the Service
	// -          servicePort: 80
	// +          service:
	// +            name: web # the Service
	// +            port:
	// +              number: 80
	//  ---
	//  kind: Pod
	//  spec:
	//    containers:
	//    - name: app
	//      image: nginx
	// +    securityContext:
	// +      allowPrivilegeEscalation: false
}
