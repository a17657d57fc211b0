package certs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Metric names written by WriteMetrics.
const (
	MetricNotAfter  = "shipshape_certificate_not_after_timestamp_seconds"
	MetricNotBefore = "shipshape_certificate_not_before_timestamp_seconds"
	MetricLifetime  = "shipshape_certificate_lifetime_seconds"
	MetricExpired   = "shipshape_certificate_expired"
	MetricErrors    = "shipshape_certificate_read_errors"
	MetricScanTime  = "shipshape_certificate_scan_timestamp_seconds"
)

// WriteMetrics writes the inventory as Prometheus text exposition for
// node-exporter's textfile collector: one series per certificate and source.
// Series are sorted, so the output only changes when the certificates do.
func WriteMetrics(w io.Writer, inv *Inventory, now time.Time) error {
	rows := make([]struct {
		labels string
		c      Cert
	}, 0, len(inv.Certs))
	for _, c := range inv.Certs {
		rows = append(rows, struct {
			labels string
			c      Cert
		}{certLabels(c), c})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].labels < rows[j].labels })
	var b strings.Builder
	gauge := func(name, help string, value func(Cert) float64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
		for _, r := range rows {
			fmt.Fprintf(&b, "%s{%s} %s\n", name, r.labels, formatFloat(value(r.c)))
		}
	}
	gauge(MetricNotAfter, "NotAfter of the certificate, in seconds since the epoch.", func(c Cert) float64 { return float64(c.NotAfter.Unix()) })
	gauge(MetricNotBefore, "NotBefore of the certificate, in seconds since the epoch.", func(c Cert) float64 { return float64(c.NotBefore.Unix()) })
	gauge(MetricLifetime, "Issued lifetime of the certificate (NotAfter - NotBefore), in seconds.", func(c Cert) float64 { return c.Lifetime().Seconds() })
	gauge(MetricExpired, "1 when the certificate was expired or not yet valid at scan time, else 0.", func(c Cert) float64 {
		if now.After(c.NotAfter) || now.Before(c.NotBefore) {
			return 1
		}
		return 0
	})
	fmt.Fprintf(&b, "# HELP %s Certificates, keys or kubeconfigs that could not be read in the last scan.\n# TYPE %s gauge\n%s %d\n", MetricErrors, MetricErrors, MetricErrors, len(inv.Problems))
	fmt.Fprintf(&b, "# HELP %s When the scan ran, in seconds since the epoch.\n# TYPE %s gauge\n%s %d\n", MetricScanTime, MetricScanTime, MetricScanTime, now.Unix())
	_, err := io.WriteString(w, b.String())
	return err
}

func formatFloat(f float64) string { return fmt.Sprintf("%.0f", f) }

func certLabels(c Cert) string {
	kv := [][2]string{
		{"source", string(c.Source.Kind)},
		{"path", c.Source.Path},
		{"field", c.Source.Field},
		{"index", fmt.Sprint(c.Source.Index)},
		{"name", c.Name},
		{"subject", Subject(c.Certificate)},
		{"issuer", Issuer(c.Certificate)},
		{"serial", c.SerialNumber.Text(16)},
		{"ca", fmt.Sprint(c.IsCA())},
	}
	if o := c.Source.Object; o != nil {
		kv = append(kv, [2]string{"object_kind", o.Kind}, [2]string{"object_namespace", o.Namespace}, [2]string{"object_name", o.Name})
	} else {
		kv = append(kv, [2]string{"object_kind", ""}, [2]string{"object_namespace", ""}, [2]string{"object_name", ""})
	}
	sort.Slice(kv, func(i, j int) bool { return kv[i][0] < kv[j][0] })
	parts := make([]string, len(kv))
	for i, p := range kv {
		parts[i] = p[0] + `="` + escapeLabel(p[1]) + `"`
	}
	return strings.Join(parts, ",")
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

// WriteMetricsFile writes the metrics to path atomically: a temporary file
// in the same directory, synced, then renamed, so that the textfile
// collector never reads half a file and a failed write keeps the previous one.
func WriteMetricsFile(path string, inv *Inventory, now time.Time) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := WriteMetrics(tmp, inv, now); err != nil {
		tmp.Close()
		return fmt.Errorf("write metrics %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write metrics %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write metrics %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write metrics %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write metrics %s: %w", path, err)
	}
	return nil
}
