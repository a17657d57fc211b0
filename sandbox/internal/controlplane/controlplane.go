// Package controlplane wires the sandbox together: kubeadm-style PKI and
// kubeconfigs, embedded etcd, the in-process kube-apiserver and the
// kube-controller-manager child process, readiness and clean shutdown.
package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shipshape-dev/shipshape/sandbox/internal/apiserver"
	"github.com/shipshape-dev/shipshape/sandbox/internal/controllermanager"
	"github.com/shipshape-dev/shipshape/sandbox/internal/etcd"
	"github.com/shipshape-dev/shipshape/sandbox/internal/helmseed"
	"github.com/shipshape-dev/shipshape/sandbox/internal/kubeconfig"
	"github.com/shipshape-dev/shipshape/sandbox/internal/pki"
	"github.com/shipshape-dev/shipshape/sandbox/internal/seed"
)

// Fixed cluster parameters, matching kubeadm defaults.
const (
	NodeName         = "shipshape-sandbox"
	ContextName      = "shipshape-sandbox"
	ServiceCIDR      = "10.96.0.0/12"
	ServiceIP        = "10.96.0.1"
	DNSDomain        = "cluster.local"
	ServiceAccountIs = "https://kubernetes.default.svc.cluster.local"
)

// Options configures a sandbox run.
type Options struct {
	Dir string
	// SeedDir, when set, is applied after the control plane is ready.
	SeedDir string
	// ChartsDir, when set, holds Helm charts installed after SeedDir is
	// applied (see package helmseed).
	ChartsDir     string
	KeyType       pki.KeyType
	CertValidity  map[string]time.Duration
	CertNotBefore map[string]time.Duration
	CertSigner    map[string]string
	RegeneratePKI bool
	// AllowInvalidCerts starts even when a certificate the control plane
	// needs is expired or not yet valid.
	AllowInvalidCerts bool
	// APIServerArgs and ControllerManagerArgs are appended to the
	// generated command lines and so override them.
	APIServerArgs         []string
	ControllerManagerArgs []string
	ReadyTimeout          time.Duration
	// Stdout receives the ready line; Stderr progress and warnings.
	Stdout, Stderr io.Writer
}

// Ready is the content of DIR/ready, written once the sandbox is usable.
type Ready struct {
	Kubeconfig string `json:"kubeconfig"`
	APIServer  string `json:"apiserver"`
	Dir        string `json:"dir"`
	PID        int    `json:"pid"`
}

// state persists the ports between runs so that restarts keep them when
// they are still free.
type state struct {
	APIServerPort         int `json:"apiserverPort"`
	EtcdClientPort        int `json:"etcdClientPort"`
	EtcdPeerPort          int `json:"etcdPeerPort"`
	ControllerManagerPort int `json:"controllerManagerPort"`
}

// layout names every path under DIR.
type layout struct {
	dir, etcKube, pkiDir, logs, etcdData string
}

func newLayout(dir string) layout {
	etcKube := filepath.Join(dir, "etc", "kubernetes")
	return layout{
		dir:      dir,
		etcKube:  etcKube,
		pkiDir:   filepath.Join(etcKube, "pki"),
		logs:     filepath.Join(dir, "logs"),
		etcdData: filepath.Join(dir, "var", "lib", "etcd"),
	}
}

func (l layout) kubeconfigFile(name string) string { return filepath.Join(l.etcKube, name) }
func (l layout) adminKubeconfig() string           { return filepath.Join(l.dir, "kubeconfig") }
func (l layout) readyFile() string                 { return filepath.Join(l.dir, "ready") }
func (l layout) stateFile() string                 { return filepath.Join(l.dir, "state.json") }
func (l layout) logFile(name string) string        { return filepath.Join(l.logs, name+".log") }

// Run starts the control plane, reports readiness and blocks until ctx is
// cancelled or a component fails, then shuts everything down.
func Run(ctx context.Context, o Options) (err error) {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 3 * time.Minute
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return err
	}
	l := newLayout(dir)
	for _, d := range []string{l.dir, l.pkiDir, l.logs, l.etcdData} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// etcd insists on a private data directory.
	if err := os.Chmod(l.etcdData, 0o700); err != nil {
		return err
	}
	unlock, err := lockDir(filepath.Join(dir, ".lock"))
	if err != nil {
		return err
	}
	defer unlock()
	_ = os.Remove(l.readyFile())
	defer os.Remove(l.readyFile())
	say := func(format string, args ...any) { fmt.Fprintf(o.Stderr, format+"\n", args...) }

	var st state
	if data, err := os.ReadFile(l.stateFile()); err == nil {
		_ = json.Unmarshal(data, &st)
	}

	// PKI and kubeconfigs.
	p, err := pki.Ensure(l.pkiDir, pki.Config{
		NodeName:    NodeName,
		AdvertiseIP: net.ParseIP("127.0.0.1").To4(),
		ServiceIP:   net.ParseIP(ServiceIP).To4(),
		DNSDomain:   DNSDomain,
		KeyType:     o.KeyType,
		Validity:    o.CertValidity,
		NotBefore:   o.CertNotBefore,
		Signer:      o.CertSigner,
		Regenerate:  o.RegeneratePKI,
		Log:         o.Stderr,
	}, func(name string) ([]byte, []byte, error) {
		if o.RegeneratePKI {
			return nil, nil, os.ErrNotExist
		}
		return kubeconfig.ClientCert(l.kubeconfigFile(name))
	})
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	invalid := p.Invalid(time.Now())
	var blocking []string
	for _, name := range pki.Keys(invalid) {
		if slices.Contains(pki.Required(), name) {
			blocking = append(blocking, invalid[name])
			continue
		}
		say("warning: certificate %s (not needed by the sandbox itself)", invalid[name])
	}
	if len(blocking) > 0 {
		if !o.AllowInvalidCerts {
			return fmt.Errorf("certificates the control plane needs are unusable: %s (use --allow-invalid-certs to start anyway, or --regenerate-pki)", strings.Join(blocking, "; "))
		}
		for _, b := range blocking {
			say("warning: certificate %s; the control plane will probably not become ready", b)
		}
	}

	// The API server listener is held from here on, so its port cannot be
	// taken by anybody else.
	apiListener, err := listenPreferred(st.APIServerPort)
	if err != nil {
		return err
	}
	st.APIServerPort = apiListener.Addr().(*net.TCPAddr).Port
	server := "https://127.0.0.1:" + strconv.Itoa(st.APIServerPort)
	if err := writeKubeconfigs(l, p, server); err != nil {
		apiListener.Close()
		return err
	}

	// etcd.
	etcdSrv, err := startEtcd(ctx, l, &st)
	if err != nil {
		apiListener.Close()
		return err
	}
	defer etcdSrv.Close()
	say("etcd: %s (log %s)", etcdSrv.ClientURL, l.logFile("etcd"))

	// kube-apiserver.
	apiLog, err := os.OpenFile(l.logFile("kube-apiserver"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		apiListener.Close()
		return err
	}
	defer apiLog.Close()
	api, err := apiserver.New(append(apiServerArgs(p, etcdSrv.ClientURL), o.APIServerArgs...), apiListener, apiLog)
	if err != nil {
		apiListener.Close()
		return err
	}
	apiCtx, stopAPI := context.WithCancel(context.WithoutCancel(ctx))
	apiRun := &background{done: make(chan struct{})}
	go func() {
		apiRun.err = api.Run(apiCtx)
		close(apiRun.done)
	}()
	defer func() {
		stopAPI()
		select {
		case <-apiRun.done:
		case <-time.After(30 * time.Second):
			say("warning: kube-apiserver did not stop within 30s")
		}
	}()
	say("kube-apiserver: %s (log %s)", server, l.logFile("kube-apiserver"))

	if err := saveState(l, st); err != nil {
		return err
	}

	readyCtx, cancelReady := context.WithTimeout(ctx, o.ReadyTimeout)
	defer cancelReady()
	superAdmin, err := restConfig(l.kubeconfigFile("super-admin.conf"))
	if err != nil {
		return err
	}
	if err := waitAPIServer(readyCtx, superAdmin, apiRun); err != nil {
		return err
	}
	if err := bootstrapRBAC(readyCtx, superAdmin); err != nil {
		return err
	}

	// kube-controller-manager.
	cm, err := startControllerManager(readyCtx, l, p, &st, o.ControllerManagerArgs, apiRun)
	if err != nil {
		return err
	}
	defer cm.Stop(10 * time.Second)
	if err := saveState(l, st); err != nil {
		return err
	}
	say("kube-controller-manager: https://127.0.0.1:%d (log %s)", st.ControllerManagerPort, l.logFile("controller-manager"))

	admin, err := restConfig(l.adminKubeconfig())
	if err != nil {
		return err
	}
	if err := waitWorkloadsReady(readyCtx, admin, cm, apiRun); err != nil {
		return err
	}

	if o.SeedDir != "" {
		n, err := seed.Apply(readyCtx, admin, o.SeedDir)
		if err != nil {
			return fmt.Errorf("seed %s: %w", o.SeedDir, err)
		}
		say("seed: applied %d objects from %s", n, o.SeedDir)
	}
	if o.ChartsDir != "" {
		releases, err := helmseed.Discover(o.ChartsDir)
		if err != nil {
			return err
		}
		for _, r := range releases {
			if err := helmseed.Install(readyCtx, l.adminKubeconfig(), r); err != nil {
				return err
			}
			say("seed: Helm release %s/%s from %s", r.Namespace, r.Name, r.ChartDir)
		}
	}

	ready := Ready{Kubeconfig: l.adminKubeconfig(), APIServer: server, Dir: dir, PID: os.Getpid()}
	data, _ := json.MarshalIndent(ready, "", "  ")
	if err := pki.WriteFileAtomic(l.readyFile(), append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "ready: kubeconfig=%s apiserver=%s\n", ready.Kubeconfig, ready.APIServer)

	var failure error
	select {
	case <-ctx.Done():
	case <-apiRun.done:
		failure = apiRun.failure()
	case <-cm.Done():
		failure = cm.Err()
	case err := <-etcdSrv.Err():
		failure = fmt.Errorf("etcd failed: %w", err)
	}
	if ctx.Err() != nil {
		// A signal may also have reached a component directly; shutting
		// down was requested either way.
		say("shutting down")
		return nil
	}
	return failure
}

// background tracks a component running in a goroutine.
type background struct {
	done chan struct{}
	err  error
}

// failure describes why the component stopped; call only after done.
func (b *background) failure() error {
	if b.err == nil {
		return errors.New("kube-apiserver stopped unexpectedly")
	}
	return fmt.Errorf("kube-apiserver stopped: %w", b.err)
}

func saveState(l layout, st state) error {
	data, _ := json.MarshalIndent(st, "", "  ")
	return pki.WriteFileAtomic(l.stateFile(), append(data, '\n'), 0o644)
}

func startEtcd(ctx context.Context, l layout, st *state) (*etcd.Server, error) {
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			st.EtcdClientPort, st.EtcdPeerPort = 0, 0
		}
		client, err := freePort(st.EtcdClientPort)
		if err != nil {
			return nil, err
		}
		peer, err := freePort(st.EtcdPeerPort, client)
		if err != nil {
			return nil, err
		}
		st.EtcdClientPort, st.EtcdPeerPort = client, peer
		srv, err := etcd.Start(ctx, etcd.Config{
			Name:       NodeName,
			DataDir:    l.etcdData,
			PKIDir:     filepath.Join(l.pkiDir, "etcd"),
			ClientPort: client,
			PeerPort:   peer,
			LogFile:    l.logFile("etcd"),
		})
		if err == nil {
			return srv, nil
		}
		lastErr = err
		if !errors.Is(err, syscall.EADDRINUSE) || ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w (see %s)", lastErr, l.logFile("etcd"))
}

func startControllerManager(ctx context.Context, l layout, p *pki.PKI, st *state, extra []string, apiRun *background) (*controllermanager.Process, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			st.ControllerManagerPort = 0
		}
		port, err := freePort(st.ControllerManagerPort)
		if err != nil {
			return nil, err
		}
		st.ControllerManagerPort = port
		args := append(controllerManagerArgs(l, p, port), extra...)
		cm, err := controllermanager.Start(args, l.logFile("controller-manager"))
		if err != nil {
			return nil, err
		}
		err = waitControllerManager(ctx, port, cm, apiRun)
		if err == nil {
			return cm, nil
		}
		cm.Stop(5 * time.Second)
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w (see %s)", lastErr, l.logFile("controller-manager"))
}

func apiServerArgs(p *pki.PKI, etcdURL string) []string {
	pk := func(n string) string { return p.CertFile(n) }
	key := func(n string) string { return p.KeyFile(n) }
	return []string{
		"--advertise-address=127.0.0.1",
		"--bind-address=127.0.0.1",
		"--allow-privileged=true",
		"--authorization-mode=Node,RBAC",
		"--client-ca-file=" + pk("ca"),
		"--enable-admission-plugins=NodeRestriction",
		"--enable-bootstrap-token-auth=true",
		"--etcd-cafile=" + pk("etcd/ca"),
		"--etcd-certfile=" + pk("apiserver-etcd-client"),
		"--etcd-keyfile=" + key("apiserver-etcd-client"),
		"--etcd-servers=" + etcdURL,
		"--kubelet-client-certificate=" + pk("apiserver-kubelet-client"),
		"--kubelet-client-key=" + key("apiserver-kubelet-client"),
		"--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
		"--proxy-client-cert-file=" + pk("front-proxy-client"),
		"--proxy-client-key-file=" + key("front-proxy-client"),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-client-ca-file=" + pk("front-proxy-ca"),
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--service-account-issuer=" + ServiceAccountIs,
		"--service-account-key-file=" + filepath.Join(p.Dir, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(p.Dir, "sa.key"),
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--tls-cert-file=" + pk("apiserver"),
		"--tls-private-key-file=" + key("apiserver"),
		// The loopback advertise address cannot be published as an
		// endpoint of the kubernetes service.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}
}

func controllerManagerArgs(l layout, p *pki.PKI, port int) []string {
	conf := l.kubeconfigFile("controller-manager.conf")
	return []string{
		"--allocate-node-cidrs=false",
		"--authentication-kubeconfig=" + conf,
		"--authorization-kubeconfig=" + conf,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--client-ca-file=" + p.CertFile("ca"),
		"--cluster-name=" + kubeconfig.ClusterName,
		"--cluster-signing-cert-file=" + p.CertFile("ca"),
		"--cluster-signing-key-file=" + p.KeyFile("ca"),
		"--controllers=*,bootstrapsigner,tokencleaner",
		"--kubeconfig=" + conf,
		"--leader-elect=false",
		"--requestheader-client-ca-file=" + p.CertFile("front-proxy-ca"),
		"--root-ca-file=" + p.CertFile("ca"),
		"--service-account-private-key-file=" + filepath.Join(p.Dir, "sa.key"),
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--use-service-account-credentials=true",
		"--profiling=false",
	}
}

// writeKubeconfigs writes the kubeadm kubeconfigs and DIR/kubeconfig, all
// pointing at server.
func writeKubeconfigs(l layout, p *pki.PKI, server string) error {
	ca := p.Pairs["ca"].CertPEM
	for _, s := range pki.Specs(pki.Config{NodeName: NodeName}) {
		if !s.Kubeconfig {
			continue
		}
		kp := p.Pairs[s.Name]
		user := s.CommonName
		err := kubeconfig.Write(kubeconfig.File{
			Path:    l.kubeconfigFile(s.Name),
			Cluster: kubeconfig.ClusterName,
			User:    user,
			Context: user + "@" + kubeconfig.ClusterName,
			Server:  server,
			CAPEM:   ca,
			CertPEM: kp.CertPEM,
			KeyPEM:  kp.KeyPEM,
		})
		if err != nil {
			return fmt.Errorf("write %s: %w", s.Name, err)
		}
	}
	admin := p.Pairs["admin.conf"]
	return kubeconfig.Write(kubeconfig.File{
		Path:    l.adminKubeconfig(),
		Cluster: ContextName,
		User:    ContextName + "-admin",
		Context: ContextName,
		Server:  server,
		CAPEM:   ca,
		CertPEM: admin.CertPEM,
		KeyPEM:  admin.KeyPEM,
	})
}

// listenPreferred listens on 127.0.0.1:preferred, or on a free port when
// preferred is zero or taken.
func listenPreferred(preferred int) (net.Listener, error) {
	if preferred > 0 {
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(preferred)); err == nil {
			return ln, nil
		}
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// freePort returns preferred when it can be bound, otherwise a free port,
// never one of avoid.
func freePort(preferred int, avoid ...int) (int, error) {
	for i := 0; i < 10; i++ {
		ln, err := listenPreferred(preferred)
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		clash := false
		for _, a := range avoid {
			clash = clash || a == port
		}
		if !clash {
			return port, nil
		}
		preferred = 0
	}
	return 0, errors.New("no free port")
}

// lockDir takes an exclusive lock so two sandboxes never share a DIR.
func lockDir(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another sandbox is running in %s", filepath.Dir(path))
	}
	return func() { f.Close() }, nil
}
