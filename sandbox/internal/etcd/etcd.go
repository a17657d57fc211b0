// Package etcd runs an embedded single-member etcd server that serves the
// client and peer endpoints over mutual TLS with the kubeadm etcd PKI.
package etcd

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// Config configures the embedded etcd.
type Config struct {
	// Name is the member name (kubeadm uses the node name).
	Name string
	// DataDir holds the member data.
	DataDir string
	// PKIDir is the etcd pki directory containing ca.crt, server.crt/key and
	// peer.crt/key.
	PKIDir string
	// ClientPort and PeerPort are loopback ports.
	ClientPort, PeerPort int
	// LogFile receives the etcd log.
	LogFile string
	// StartTimeout bounds the wait for the member to become ready.
	StartTimeout time.Duration
}

// Server is a running embedded etcd.
type Server struct {
	e         *embed.Etcd
	ClientURL string
}

// Start launches etcd and waits until it serves requests.
func Start(ctx context.Context, c Config) (*Server, error) {
	clientURL := url.URL{Scheme: "https", Host: "127.0.0.1:" + strconv.Itoa(c.ClientPort)}
	peerURL := url.URL{Scheme: "https", Host: "127.0.0.1:" + strconv.Itoa(c.PeerPort)}

	cfg := embed.NewConfig()
	cfg.Name = c.Name
	cfg.Dir = c.DataDir
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = c.Name + "=" + peerURL.String()
	cfg.InitialClusterToken = "shipshape-sandbox"
	cfg.ClientTLSInfo.CertFile = filepath.Join(c.PKIDir, "server.crt")
	cfg.ClientTLSInfo.KeyFile = filepath.Join(c.PKIDir, "server.key")
	cfg.ClientTLSInfo.TrustedCAFile = filepath.Join(c.PKIDir, "ca.crt")
	cfg.ClientTLSInfo.ClientCertAuth = true
	cfg.PeerTLSInfo.CertFile = filepath.Join(c.PKIDir, "peer.crt")
	cfg.PeerTLSInfo.KeyFile = filepath.Join(c.PKIDir, "peer.key")
	cfg.PeerTLSInfo.TrustedCAFile = filepath.Join(c.PKIDir, "ca.crt")
	cfg.PeerTLSInfo.ClientCertAuth = true
	cfg.Logger = "zap"
	cfg.LogLevel = "info"
	cfg.LogOutputs = []string{c.LogFile}
	// A throw-away local sandbox favours start-up speed over durability.
	cfg.UnsafeNoFsync = true
	cfg.SnapshotCount = 10000

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	timeout := c.StartTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
		return &Server{e: e, ClientURL: clientURL.String()}, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcd failed: %w", err)
	case <-timer.C:
		e.Close()
		return nil, errors.New("etcd did not become ready in time")
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
}

// Err reports fatal serving errors.
func (s *Server) Err() <-chan error { return s.e.Err() }

// Close stops etcd gracefully.
func (s *Server) Close() { s.e.Close() }
