package cluster

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// Retries.
//
// client-go's REST client already retries a GET up to 10 times when the
// server answers 429 or 5xx with a Retry-After header (API Priority and
// Fairness does), waiting as told, and when a connection is reset or closed
// early (see rest.Request.request and checkWait in client-go's with_retry.go).
// It does not retry 5xx or 429 without Retry-After, nor refused connections
// or timeouts. retryPolicy covers exactly those, a few times with
// exponential backoff and jitter, so the two never multiply into a storm.

// retryPolicy retries transient failures of an idempotent request.
type retryPolicy struct {
	// attempts is the total number of tries, at least 1.
	attempts int
	// base is the first backoff; each further one doubles, with up to 50%
	// jitter.
	base time.Duration
}

func defaultRetryPolicy() retryPolicy { return retryPolicy{attempts: 4, base: 250 * time.Millisecond} }

// do calls fn until it succeeds, fails permanently, the attempts are used up
// or ctx ends. It returns fn's last error.
func (p retryPolicy) do(ctx context.Context, fn func() error) error {
	backoff := p.base
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt >= p.attempts || ctx.Err() != nil || !transient(err) {
			return err
		}
		wait := backoff + time.Duration(rand.Int64N(int64(backoff)/2+1))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff *= 2
	}
}

// transient reports whether err is worth another try that client-go has
// not already made.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		code := int(status.Status().Code)
		if code != http.StatusTooManyRequests && (code < 500 || code == http.StatusNotImplemented) {
			return false
		}
		// With a server-suggested delay client-go has retried already.
		_, delayed := apierrors.SuggestsClientDelay(err)
		return !delayed
	}
	var netErr net.Error
	return utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) ||
		utilnet.IsProbableEOF(err) || errors.Is(err, io.ErrUnexpectedEOF) ||
		(errors.As(err, &netErr) && netErr.Timeout())
}
