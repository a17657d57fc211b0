package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// Exit codes. They are the contract CI scripts gate on.
const (
	ExitOK       = 0 // nothing at or above --fail-on
	ExitError    = 1 // shipshape could not do what was asked
	ExitUsage    = 2 // the command line was wrong
	ExitFindings = 3 // a finding at or above --fail-on
)

// usageError marks a mistake on the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error.
func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// thresholdError says that findings reached --fail-on. It carries no message
// of its own worth printing: the report already said everything.
type thresholdError struct {
	count     int
	threshold finding.Severity
}

func (e *thresholdError) Error() string {
	return fmt.Sprintf("%d finding(s) at or above %s", e.count, e.threshold)
}

// ExitCode is the one place that maps an error to an exit code.
func ExitCode(err error) int {
	var ue *usageError
	var te *thresholdError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &te):
		return ExitFindings
	case errors.As(err, &ue), isCobraUsage(err):
		return ExitUsage
	}
	return ExitError
}

// isCobraUsage recognises the errors cobra makes itself for unknown commands,
// which it does not let us wrap.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command ", "unknown flag: ", "unknown shorthand flag: ", "invalid argument ", "accepts ", "requires at least ", "requires at most "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
