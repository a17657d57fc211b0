// Package guard is shipshape's validating admission webhook: it judges each
// object the API server is about to create or update with exactly the checks
// `shipshape scan` and `shipshape audit` run, and answers with admission
// warnings (warn mode) or a denial (deny mode) chosen per namespace and label
// selector.
//
// It also manages its own serving certificate (an own CA, a leaf renewed well
// before expiry and hot-swapped through tls.Config.GetCertificate) and serves
// /healthz, /readyz and Prometheus /metrics. It never talks to the API server
// itself (internal/cluster does, for the CA Secret and the webhook's
// caBundle) and never prints findings: it answers AdmissionReviews.
package guard

import (
	"encoding/json"
	"fmt"
	"os"
	"path"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// Mode is what the guard does with findings.
type Mode string

// The modes.
const (
	// Warn allows the request and returns the findings as admission warnings.
	Warn Mode = "warn"
	// Deny rejects the request when a finding is at or above the rule's severity.
	Deny Mode = "deny"
	// Off judges nothing.
	Off Mode = "off"
)

// Rule chooses a mode for the objects it selects.
type Rule struct {
	// Namespaces are glob patterns (path.Match) of namespace names; empty
	// matches every namespace (and cluster-scoped objects).
	Namespaces []string `json:"namespaces,omitempty"`
	// ObjectSelector selects objects by their labels; empty matches all.
	ObjectSelector *metav1.LabelSelector `json:"objectSelector,omitempty"`
	Mode           Mode                  `json:"mode"`
	// MinSeverity is the lowest severity reported (warn) or denied (deny);
	// default "medium".
	MinSeverity string `json:"minSeverity,omitempty"`

	sel labels.Selector
	min finding.Severity
}

// Config is the guard's configuration file.
//
//	defaultMode: warn
//	rules:                       # first match wins
//	- namespaces: ["prod-*"]
//	  mode: deny
//	  minSeverity: high
//	- objectSelector: {matchLabels: {shipshape.dev/guard: "off"}}
//	  mode: off
type Config struct {
	// DefaultMode applies when no rule matches; default warn.
	DefaultMode Mode   `json:"defaultMode,omitempty"`
	Rules       []Rule `json:"rules,omitempty"`
	// MinSeverity for DefaultMode; default medium.
	MinSeverity string `json:"minSeverity,omitempty"`

	def Rule
}

// ReadConfig reads and validates a configuration file.
func ReadConfig(file string) (*Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read guard config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// ParseConfig parses and validates a configuration. Unknown fields are errors.
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("parse guard config: %w", err)
	}
	return &c, c.init()
}

// DefaultConfig warns about every finding of medium severity or above.
func DefaultConfig() *Config {
	c := &Config{}
	_ = c.init()
	return c
}

func (c *Config) init() error {
	if c.DefaultMode == "" {
		c.DefaultMode = Warn
	}
	c.def = Rule{Mode: c.DefaultMode, MinSeverity: c.MinSeverity}
	if err := c.def.init(); err != nil {
		return fmt.Errorf("defaultMode: %w", err)
	}
	for i := range c.Rules {
		if err := c.Rules[i].init(); err != nil {
			return fmt.Errorf("rules[%d]: %w", i, err)
		}
	}
	return nil
}

func (r *Rule) init() error {
	switch r.Mode {
	case Warn, Deny, Off:
	default:
		return fmt.Errorf("mode %q: want warn, deny or off", r.Mode)
	}
	for _, p := range r.Namespaces {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("namespaces: bad pattern %q: %w", p, err)
		}
	}
	r.sel = labels.Everything()
	if r.ObjectSelector != nil {
		s, err := metav1.LabelSelectorAsSelector(r.ObjectSelector)
		if err != nil {
			return fmt.Errorf("objectSelector: %w", err)
		}
		r.sel = s
	}
	r.min = finding.Medium
	if r.MinSeverity != "" {
		s, err := finding.ParseSeverity(r.MinSeverity)
		if err != nil {
			return fmt.Errorf("minSeverity: %w", err)
		}
		r.min = s
	}
	return nil
}

// ruleFor returns the first rule matching an object in namespace ns with
// labels l, or the default.
func (c *Config) ruleFor(ns string, l map[string]string) Rule {
	for _, r := range c.Rules {
		if r.matches(ns, l) {
			return r
		}
	}
	return c.def
}

func (r Rule) matches(ns string, l map[string]string) bool {
	if len(r.Namespaces) > 0 {
		ok := false
		for _, p := range r.Namespaces {
			if m, _ := path.Match(p, ns); m {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return r.sel.Matches(labels.Set(l))
}

// UnmarshalJSON reads a mode; a bare YAML off (which YAML 1.1 reads as the
// boolean false) means Off.
func (m *Mode) UnmarshalJSON(b []byte) error {
	if string(b) == "false" {
		*m = Off
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("mode: want warn, deny or off, got %s", b)
	}
	*m = Mode(s)
	return nil
}
