package render

import (
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// sarifSchemaURI is the $schema the SARIF format declares.
const sarifSchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"

// The SARIF 2.1.0 objects shipshape writes, a subset of the standard. Field
// order is output order.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
		Properties  *sarifRunProps    `json:"properties,omitempty"`
	}
	sarifRunProps struct {
		Input   string `json:"input,omitempty"`
		Objects int    `json:"objects"`
		Checks  int    `json:"checks"`
		Partial bool   `json:"partial"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string          `json:"id"`
		Name                 string          `json:"name,omitempty"`
		ShortDescription     *sarifText      `json:"shortDescription,omitempty"`
		FullDescription      *sarifText      `json:"fullDescription,omitempty"`
		HelpURI              string          `json:"helpUri,omitempty"`
		Help                 *sarifText      `json:"help,omitempty"`
		DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
		Properties           sarifRuleProps  `json:"properties"`
	}
	sarifRuleConfig struct {
		Level string `json:"level"`
	}
	sarifRuleProps struct {
		Severity         string   `json:"severity"`
		SecuritySeverity string   `json:"security-severity"`
		Tags             []string `json:"tags,omitempty"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level      string                 `json:"level"`
		Message    sarifText              `json:"message"`
		Properties *sarifNotificationProp `json:"properties,omitempty"`
	}
	sarifNotificationProp struct {
		Source string `json:"source"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId"`
		RuleIndex int             `json:"ruleIndex"`
		Level     string          `json:"level"`
		Message   sarifText       `json:"message"`
		Locations []sarifLocation `json:"locations,omitempty"`
		// Suppressions mark an exempted finding, so code-scanning tools
		// show it as dismissed with its justification.
		Suppressions []sarifSuppression `json:"suppressions,omitempty"`
		Properties   sarifResultProps   `json:"properties"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification,omitempty"`
	}
	sarifResultProps struct {
		Severity    string `json:"severity"`
		Remediation string `json:"remediation,omitempty"`
		DocsURL     string `json:"docsURL,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifLogical struct {
		Name               string `json:"name,omitempty"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

// sarifLevel maps a severity to a SARIF level: critical and high are errors,
// medium is a warning, low and info are notes.
func sarifLevel(s finding.Severity) string {
	switch {
	case s >= finding.High:
		return "error"
	case s == finding.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity maps a severity to the CVSS-like score GitHub code
// scanning reads from a rule's "security-severity" property: over 9.0 is
// critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, below that low.
func securitySeverity(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "9.5"
	case finding.High:
		return "8.0"
	case finding.Medium:
		return "5.5"
	case finding.Low:
		return "3.0"
	}
	return "1.0"
}

func writeSARIF(w io.Writer, r finding.Report, opts Options) error {
	infos := checkInfos(r, opts.Checks)
	index := make(map[string]int, len(infos))
	rules := make([]sarifRule, 0, len(infos))
	for i, ci := range infos {
		index[ci.ID] = i
		rule := sarifRule{
			ID:                   ci.ID,
			Name:                 ruleName(ci.ID),
			HelpURI:              ci.DocsURL,
			DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(ci.Severity)},
			Properties: sarifRuleProps{
				Severity:         ci.Severity.String(),
				SecuritySeverity: securitySeverity(ci.Severity),
				Tags:             []string{group(ci.ID)},
			},
		}
		if t := strings.TrimSpace(ci.Title); t != "" {
			rule.ShortDescription = &sarifText{Text: t}
		}
		if d := unwrap(ci.Doc); d != "" {
			rule.FullDescription = &sarifText{Text: d}
			rule.Help = &sarifText{Text: d}
		}
		rules = append(rules, rule)
	}

	result := func(f finding.Finding) sarifResult {
		res := sarifResult{
			RuleID:    f.Check,
			RuleIndex: index[f.Check],
			Level:     sarifLevel(f.Severity),
			Message:   sarifText{Text: f.Message},
			Properties: sarifResultProps{
				Severity:    f.Severity.String(),
				Remediation: f.Remediation,
				DocsURL:     f.DocsURL,
			},
		}
		if res.Message.Text == "" {
			res.Message.Text = f.Check
		}
		if loc, ok := sarifLocationOf(f); ok {
			res.Locations = []sarifLocation{loc}
		}
		return res
	}
	results := make([]sarifResult, 0, len(r.Findings)+len(r.Exempted))
	for _, f := range r.Findings {
		results = append(results, result(f))
	}
	// Exempted findings (listed with --show-exempt) are results suppressed
	// by shipshape's exemption policy or annotation: external to the tool.
	for _, f := range r.Exempted {
		res := result(f)
		res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: f.Exemption}}
		results = append(results, res)
	}

	inv := sarifInvocation{ExecutionSuccessful: true}
	for _, wn := range r.Warnings {
		n := sarifNotification{Level: "warning", Message: sarifText{Text: wn.Message}}
		if wn.Source != "" {
			n.Message.Text = wn.Source + ": " + wn.Message
			n.Properties = &sarifNotificationProp{Source: wn.Source}
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}
	if r.Partial {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
			sarifNotification{Level: "warning", Message: sarifText{Text: "Partial result: " + partialNotice + "."}})
	}

	name := opts.Tool.Name
	if name == "" {
		name = "shipshape"
	}
	log := sarifLog{
		Schema:  sarifSchemaURI,
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name:           name,
				Version:        opts.Tool.Version,
				InformationURI: opts.Tool.InformationURI,
				Rules:          rules,
			}},
			Invocations: []sarifInvocation{inv},
			Results:     results,
			Properties: &sarifRunProps{
				Input:   r.Summary.Input,
				Objects: r.Summary.Objects,
				Checks:  r.Summary.Checks,
				Partial: r.Partial,
			},
		}},
	}
	b, err := marshalJSON(log)
	if err != nil {
		return fmt.Errorf("encode sarif: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// sarifLocationOf says where a finding is: its file and line as a physical
// location, its Kubernetes object as a logical location, or both.
func sarifLocationOf(f finding.Finding) (sarifLocation, bool) {
	var loc sarifLocation
	if f.Location != nil && f.Location.Path != "" {
		loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(f.Location.Path)}}
		if f.Location.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Location.Line}
		}
	}
	if o := f.Object; o != nil {
		loc.LogicalLocations = []sarifLogical{{
			Name:               o.Name,
			FullyQualifiedName: o.String(), // namespace/Kind/name, or Kind/name
			Kind:               "resource",
		}}
	}
	return loc, loc.PhysicalLocation != nil || loc.LogicalLocations != nil
}

// artifactURI turns a path as the user gave it into a URI reference: forward
// slashes, with spaces and other reserved characters percent-encoded.
// Relative paths stay relative, so that code-scanning tools resolve them
// against the repository root.
func artifactURI(path string) string {
	p := filepath.ToSlash(path)
	if vol := filepath.VolumeName(path); vol != "" {
		// A Windows path with a drive letter or UNC share is absolute.
		u := url.URL{Scheme: "file", Path: "/" + strings.TrimPrefix(p, "/")}
		return u.String()
	}
	u := url.URL{Path: p}
	return u.String()
}

// unwrap joins the hard-wrapped lines of each paragraph of a check's Doc,
// so that viewers can wrap the text themselves. Blank lines still separate
// paragraphs, and lines that start with white space or a list marker stay
// on lines of their own.
func unwrap(doc string) string {
	var b strings.Builder
	blank := false
	for _, l := range strings.Split(strings.TrimSpace(strings.ReplaceAll(doc, "\r\n", "\n")), "\n") {
		switch {
		case strings.TrimSpace(l) == "":
			blank = true
			continue
		case b.Len() == 0:
		case blank:
			b.WriteString("\n\n")
		case strings.HasPrefix(l, " "), strings.HasPrefix(l, "\t"), strings.HasPrefix(l, "- "), strings.HasPrefix(l, "* "):
			b.WriteString("\n")
		default:
			b.WriteString(" ")
		}
		blank = false
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			b.WriteString(strings.TrimRight(l, " \t"))
		} else {
			b.WriteString(strings.TrimSpace(l))
		}
	}
	return b.String()
}

// ruleName turns a check ID into the identifier-like name SARIF viewers show:
// "inventory/objects" becomes "InventoryObjects".
func ruleName(id string) string {
	var b strings.Builder
	upper := true
	for _, r := range id {
		if r == '/' || r == '-' || r == '_' || r == '.' || unicode.IsSpace(r) {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
