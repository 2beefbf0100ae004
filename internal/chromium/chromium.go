// Package chromium finds the headless Chromium the end-to-end tests and
// the scan station's benchmark drive.
package chromium

import (
	"errors"
	"os"
	"os/exec"
)

// ErrMissing says how to install what is missing.
var ErrMissing = errors.New("headless Chromium is needed: apt-get install chromium fonts-wqy-microhei")

// Path is the Chromium binary: Debian's, another usual place, or the one
// on PATH.
func Path() (string, error) {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", ErrMissing
}
