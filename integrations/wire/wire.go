// Package wire is what the couriers' protocols share on the wire: a form
// POST whose answer is read whole, and an error that says no answer came.
package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxAnswer is the largest answer read.
const MaxAnswer = 4 << 20

// ErrNoAnswer: no readable answer came (a time-out, a dropped connection,
// an HTTP error status). Whether the courier acted on the call is unknown.
var ErrNoAnswer = errors.New("no answer")

// PostForm posts form to addr (application/x-www-form-urlencoded, UTF-8)
// and reads the answer: its status, its body, how long it took. A
// transport error keeps no URL (which may carry a token).
func PostForm(ctx context.Context, c *http.Client, addr string, form url.Values) (status int, body []byte, took time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, addr, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, time.Since(t0), fmt.Errorf("%w: %v", ErrNoAnswer, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	took = time.Since(t0)
	if err != nil {
		return resp.StatusCode, body, took, fmt.Errorf("%w: reading the answer: %v", ErrNoAnswer, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, body, took, fmt.Errorf("%w: HTTP %d", ErrNoAnswer, resp.StatusCode)
	}
	return resp.StatusCode, body, took, nil
}
