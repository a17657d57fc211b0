package sandboxtest_test

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

func newNamespace(t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	ns, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "sbx-test-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

func TestMakefileLDFlags(t *testing.T) {
	t.Parallel()
	root, err := sandboxtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, "sandbox", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]string{}
	re := regexp.MustCompile(`^([A-Z_]+)\s*:?=\s*(\S+)\s*$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			got[m[1]] = m[2]
		}
	}
	want := map[string]string{
		"GIT_VERSION":    sandboxtest.GitVersion,
		"GIT_MAJOR":      sandboxtest.GitMajor,
		"GIT_MINOR":      sandboxtest.GitMinor,
		"GIT_COMMIT":     sandboxtest.GitCommit,
		"GIT_TREE_STATE": sandboxtest.GitTreeState,
		"BUILD_DATE":     sandboxtest.BuildDate,
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			delete(got, k)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sandbox/Makefile version variables differ from sandboxtest (-harness +Makefile):\n%s", diff)
	}
}

func TestServerVersion(t *testing.T) {
	t.Parallel()
	env := sandboxtest.Get(t)
	v, err := env.Clientset(t).Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	got := [4]string{v.GitVersion, v.Major, v.Minor, v.GitTreeState}
	want := [4]string{"v1.37.2", "1", "37", "clean"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server version (-want +got):\n%s", diff)
	}
}

func TestNamespaceFinalizes(t *testing.T) {
	t.Parallel()
	env := sandboxtest.Get(t)
	cs := env.Clientset(t)
	ctx := context.Background()
	ns := newNamespace(t, cs)
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "content"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	sandboxtest.Eventually(t, time.Minute, "namespace deletion", func() error {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return os.ErrExist
	})
}

func TestDeploymentCreatesReplicaSet(t *testing.T) {
	t.Parallel()
	env := sandboxtest.Get(t)
	cs := env.Clientset(t)
	ctx := context.Background()
	ns := newNamespace(t, cs)
	labels := map[string]string{"app": "web"}
	dep, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.k8s.io/pause:3.10"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sandboxtest.Eventually(t, time.Minute, "ReplicaSet owned by the Deployment", func() error {
		rss, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, rs := range rss.Items {
			for _, ref := range rs.OwnerReferences {
				if ref.UID == dep.UID {
					return nil
				}
			}
		}
		return os.ErrNotExist
	})
}

func TestServiceAccountsAndTokens(t *testing.T) {
	t.Parallel()
	env := sandboxtest.Get(t)
	cs := env.Clientset(t)
	ctx := context.Background()
	ns := newNamespace(t, cs)
	sandboxtest.Eventually(t, time.Minute, "default ServiceAccount and kube-root-ca.crt", func() error {
		if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return err
		}
		_, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err
	})

	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "default", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(env.Config())
	cfg.BearerToken = tr.Status.Token
	saClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := saClient.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("authenticate with service-account token: %v", err)
	}
	if got, want := review.Status.UserInfo.Username, "system:serviceaccount:"+ns+":default"; got != want {
		t.Errorf("token user = %q, want %q", got, want)
	}
}

func TestRBACIsEnforced(t *testing.T) {
	t.Parallel()
	env := sandboxtest.Get(t)
	cs := env.Clientset(t)
	ctx := context.Background()
	ns := newNamespace(t, cs)

	alice, err := kubernetes.NewForConfig(env.ConfigAs("alice", "dev-team"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = alice.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("alice listing secrets: got %v, want Forbidden", err)
	}

	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "dev-team-view"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "dev-team"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sandboxtest.Eventually(t, 30*time.Second, "alice allowed after RoleBinding", func() error {
		_, err := alice.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		return err
	})
	if _, err := alice.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("alice listing kube-system secrets: got %v, want Forbidden", err)
	}
}

// readCert parses the PEM certificate at path.
func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseCertPEM(t, path, data)
}

func parseCertPEM(t *testing.T, what string, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", what)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return c
}

func verifyChain(t *testing.T, name string, leaf, ca *x509.Certificate, usage x509.ExtKeyUsage) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		t.Errorf("%s does not chain to %s: %v", name, ca.Subject.CommonName, err)
	}
}

func TestPKIMatchesKubeadmLayout(t *testing.T) {
	t.Parallel()
	env := sandboxtest.Get(t)
	pkiDir := env.PKIDir()
	etcKube := filepath.Dir(pkiDir)

	// Every file kubeadm init writes for certificates and kubeconfigs.
	var missing []string
	for _, base := range []string{
		"ca", "apiserver", "apiserver-kubelet-client", "apiserver-etcd-client",
		"front-proxy-ca", "front-proxy-client",
		"etcd/ca", "etcd/server", "etcd/peer", "etcd/healthcheck-client",
	} {
		for _, ext := range []string{".crt", ".key"} {
			if _, err := os.Stat(filepath.Join(pkiDir, base+ext)); err != nil {
				missing = append(missing, "pki/"+base+ext)
			}
		}
	}
	for _, f := range []string{"pki/sa.key", "pki/sa.pub", "admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf", "kubelet.conf"} {
		if _, err := os.Stat(filepath.Join(etcKube, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("missing kubeadm files under %s: %v", etcKube, missing)
	}
	if env.Kubeconfig() != filepath.Join(env.Dir(), "kubeconfig") {
		t.Errorf("Kubeconfig() = %s, want DIR/kubeconfig", env.Kubeconfig())
	}

	cert := func(name string) *x509.Certificate { return readCert(t, filepath.Join(pkiDir, name+".crt")) }
	ca, frontCA, etcdCA := cert("ca"), cert("front-proxy-ca"), cert("etcd/ca")
	for name, c := range map[string]*x509.Certificate{"ca": ca, "front-proxy-ca": frontCA, "etcd/ca": etcdCA} {
		if !c.IsCA {
			t.Errorf("%s is not a CA", name)
		}
		if got := c.NotAfter.Sub(c.NotBefore); got < 10*365*24*time.Hour-time.Hour {
			t.Errorf("%s validity %s, want 10 years", name, got)
		}
	}

	// The live serving certificate is pki/apiserver.crt.
	apiserverCrt := cert("apiserver")
	host := strings.TrimPrefix(env.APIServerURL(), "https://")
	conn, err := tls.Dial("tcp", host, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // comparing the raw certificate below
	if err != nil {
		t.Fatal(err)
	}
	live := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	if !live.Equal(apiserverCrt) {
		t.Errorf("serving certificate %q (serial %s) differs from pki/apiserver.crt (serial %s)", live.Subject, live.SerialNumber, apiserverCrt.SerialNumber)
	}
	verifyChain(t, "apiserver", apiserverCrt, ca, x509.ExtKeyUsageServerAuth)
	for _, dns := range []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"} {
		if err := apiserverCrt.VerifyHostname(dns); err != nil {
			t.Errorf("apiserver.crt: %v", err)
		}
	}
	for _, ip := range []string{"127.0.0.1", "10.96.0.1"} {
		if err := apiserverCrt.VerifyHostname(ip); err != nil {
			t.Errorf("apiserver.crt: %v", err)
		}
	}
	if got := apiserverCrt.Subject.CommonName; got != "kube-apiserver" {
		t.Errorf("apiserver CN = %q", got)
	}
	if got := apiserverCrt.NotAfter.Sub(apiserverCrt.NotBefore); got != 365*24*time.Hour {
		t.Errorf("apiserver validity %s, want 1 year", got)
	}

	verifyChain(t, "apiserver-kubelet-client", cert("apiserver-kubelet-client"), ca, x509.ExtKeyUsageClientAuth)
	verifyChain(t, "front-proxy-client", cert("front-proxy-client"), frontCA, x509.ExtKeyUsageClientAuth)
	etcdServer := cert("etcd/server")
	verifyChain(t, "etcd/server", etcdServer, etcdCA, x509.ExtKeyUsageServerAuth)
	if err := etcdServer.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("etcd/server.crt: %v", err)
	}
	verifyChain(t, "etcd/peer", cert("etcd/peer"), etcdCA, x509.ExtKeyUsageServerAuth)
	verifyChain(t, "etcd/healthcheck-client", cert("etcd/healthcheck-client"), etcdCA, x509.ExtKeyUsageClientAuth)
	verifyChain(t, "apiserver-etcd-client", cert("apiserver-etcd-client"), etcdCA, x509.ExtKeyUsageClientAuth)

	// sa.pub is the public half of sa.key.
	keyPEM, err := os.ReadFile(filepath.Join(pkiDir, "sa.key"))
	if err != nil {
		t.Fatal(err)
	}
	saKey := parsePrivateKey(t, keyPEM)
	pubPEM, err := os.ReadFile(filepath.Join(pkiDir, "sa.pub"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pubPEM)
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatal("sa.pub: no PUBLIC KEY block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !saKey.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
		t.Error("sa.pub does not match sa.key")
	}

	// Kubeconfig identities, as kubeadm issues them.
	for file, want := range map[string][2]string{
		"admin.conf":              {"kubernetes-admin", "kubeadm:cluster-admins"},
		"super-admin.conf":        {"kubernetes-super-admin", "system:masters"},
		"controller-manager.conf": {"system:kube-controller-manager", ""},
		"scheduler.conf":          {"system:kube-scheduler", ""},
		"kubelet.conf":            {"system:node:shipshape-sandbox", "system:nodes"},
	} {
		kc, err := clientcmd.LoadFromFile(filepath.Join(etcKube, file))
		if err != nil {
			t.Fatal(err)
		}
		ctx := kc.Contexts[kc.CurrentContext]
		if ctx == nil {
			t.Fatalf("%s: no current context", file)
		}
		user := kc.AuthInfos[ctx.AuthInfo]
		c := parseCertPEM(t, file, user.ClientCertificateData)
		verifyChain(t, file, c, ca, x509.ExtKeyUsageClientAuth)
		got := [2]string{c.Subject.CommonName, strings.Join(c.Subject.Organization, ",")}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s subject (-want +got):\n%s", file, diff)
		}
		if server := kc.Clusters[ctx.Cluster].Server; server != env.APIServerURL() {
			t.Errorf("%s server = %s, want %s", file, server, env.APIServerURL())
		}
	}

	// etcd serves TLS with etcd/server.crt and requires a client
	// certificate from etcd/ca.
	etcdTLS(t, env, pkiDir, etcdServer)
}

// etcdTLS dials the etcd client port with the healthcheck client
// certificate and checks the served certificate.
func etcdTLS(t *testing.T, env *sandboxtest.Env, pkiDir string, want *x509.Certificate) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.Dir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		EtcdClientPort int `json:"etcdClientPort"`
	}
	if err := json.Unmarshal(data, &st); err != nil || st.EtcdClientPort == 0 {
		t.Fatalf("state.json: %v %s", err, data)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(st.EtcdClientPort))
	clientCert, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, "etcd/healthcheck-client.crt"), filepath.Join(pkiDir, "etcd/healthcheck-client.key"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(readCert(t, filepath.Join(pkiDir, "etcd/ca.crt")))
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientCert}, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("etcd TLS with client certificate: %v", err)
	}
	if !conn.ConnectionState().PeerCertificates[0].Equal(want) {
		t.Error("etcd serving certificate differs from pki/etcd/server.crt")
	}
	conn.Close()

	// Without a client certificate the handshake must fail.
	conn, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err == nil {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Error("etcd accepted a TLS client without certificate")
	}
}

func parsePrivateKey(t *testing.T, data []byte) crypto.Signer {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM private key")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		t.Fatal(err)
	}
	return key.(crypto.Signer)
}

// TestDedicatedSandbox starts a sandbox of its own with custom validity
// periods, an already expired certificate that no component needs, ECDSA
// keys and seeded manifests.
func TestDedicatedSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own sandbox; runs without -short")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	env, err := sandboxtest.Start(ctx, sandboxtest.Options{
		CertValidity: map[string]string{
			"apiserver-kubelet-client": "48h",
			"etcd/server":              "720h",
			"front-proxy-ca":           "2y",
		},
		CertNotBefore: map[string]string{"etcd/healthcheck-client": "-400d"},
		CertSigner:    map[string]string{"front-proxy-client": "ca"},
		ExtraArgs:     []string{"--key-type=ecdsa"},
		Seed:          "demo",
		SeedDir:       filepath.Join("testdata", "seed"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(env.Dir()); !os.IsNotExist(err) {
			t.Errorf("sandbox directory %s not removed: %v", env.Dir(), err)
		}
	})
	pkiDir := env.PKIDir()
	validity := func(name string) time.Duration {
		c := readCert(t, filepath.Join(pkiDir, name+".crt"))
		return c.NotAfter.Sub(c.NotBefore)
	}
	got := map[string]time.Duration{}
	for _, n := range []string{"apiserver-kubelet-client", "etcd/server", "front-proxy-ca", "apiserver", "ca"} {
		got[n] = validity(n)
	}
	want := map[string]time.Duration{
		"apiserver-kubelet-client": 48 * time.Hour,
		"etcd/server":              720 * time.Hour,
		"front-proxy-ca":           2 * 365 * 24 * time.Hour,
		"apiserver":                365 * 24 * time.Hour,
		"ca":                       10 * 365 * 24 * time.Hour,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("validity (-want +got):\n%s", diff)
	}

	expired := readCert(t, filepath.Join(pkiDir, "etcd/healthcheck-client.crt"))
	if !time.Now().After(expired.NotAfter) {
		t.Errorf("etcd/healthcheck-client NotAfter %s is not in the past", expired.NotAfter)
	}
	if d := time.Since(expired.NotBefore); d < 399*24*time.Hour || d > 401*24*time.Hour {
		t.Errorf("etcd/healthcheck-client NotBefore %s, want about 400 days ago", expired.NotBefore)
	}
	wrong := readCert(t, filepath.Join(pkiDir, "front-proxy-client.crt"))
	verifyChain(t, "front-proxy-client (wrongly issued)", wrong, readCert(t, filepath.Join(pkiDir, "ca.crt")), x509.ExtKeyUsageClientAuth)
	if got := wrong.Issuer.CommonName; got != "kubernetes" {
		t.Errorf("front-proxy-client issuer = %q, want kubernetes", got)
	}
	if _, ok := parsePrivateKey(t, mustRead(t, filepath.Join(pkiDir, "apiserver.key"))).Public().(*ecdsa.PublicKey); !ok {
		t.Error("--key-type=ecdsa did not produce an ECDSA apiserver key")
	}

	// The control plane works with these certificates.
	cs, err := kubernetes.NewForConfig(env.Config())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}

	// Seeded objects: CRD before its resources, namespace before its
	// content, List items expanded, all owned by the seeding field manager.
	dyn, err := dynamic.NewForConfig(env.Config())
	if err != nil {
		t.Fatal(err)
	}
	widgets, err := dyn.Resource(schema.GroupVersionResource{Group: "example.shipshape.dev", Version: "v1", Resource: "widgets"}).
		Namespace("seeded").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range widgets.Items {
		names = append(names, w.GetName())
	}
	if diff := cmp.Diff([]string{"cog", "gear"}, names); diff != "" {
		t.Errorf("seeded widgets (-want +got):\n%s", diff)
	}
	cm, err := cs.CoreV1().ConfigMaps("seeded").Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cm.ManagedFields) == 0 || cm.ManagedFields[0].Manager != "shipshape-sandbox" || cm.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("settings ConfigMap not server-side applied by shipshape-sandbox: %+v", cm.ManagedFields)
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(ctx, "seeded-widget-reader", metav1.GetOptions{}); err != nil {
		t.Error(err)
	}
	if _, err := cs.AppsV1().Deployments("seeded").Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Error(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
