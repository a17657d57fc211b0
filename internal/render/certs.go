package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// CertRow is one line of the certificate table.
type CertRow struct {
	Source, Subject, Issuer string
	NotAfter                time.Time
	// Left and Lifetime are already formatted ("29d 23h").
	Left, Lifetime string
}

// WriteCertTable prints certificates in the order given (the caller sorts
// them by time left): source, subject, issuer, not after, time left and
// issued lifetime.
func WriteCertTable(w io.Writer, rows []CertRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME LEFT\tNOT AFTER\tLIFETIME\tSUBJECT\tISSUER\tSOURCE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Left, r.NotAfter.UTC().Format("2006-01-02 15:04"), r.Lifetime, cell(r.Subject), cell(r.Issuer), cell(r.Source))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d certificate(s)\n\n", len(rows))
	return err
}

// cell keeps a table cell on one line and free of tabs.
func cell(s string) string {
	s = strings.NewReplacer("\t", " ", "\n", " ").Replace(s)
	if s == "" {
		return "-"
	}
	return s
}
