package simulator

import (
	"net/http"
	"sync"
	"time"
)

// faults is a queue of faults, played one per call in order.
type faults struct {
	mu    sync.Mutex
	queue []Fault
}

func (f *faults) add(fs ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, fs...)
}

func (f *faults) next() Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) == 0 {
		return ""
	}
	fault := f.queue[0]
	f.queue = f.queue[1:]
	return fault
}

// answer writes an answer to a call already acted on, as the fault says:
// dropped (the connection closed unanswered), slow (after delay, default
// 3 s, unless the caller gave up first), else at once.
func answer(w http.ResponseWriter, r *http.Request, fault Fault, delay time.Duration, body []byte) {
	switch fault {
	case FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
	case FaultSlow:
		if delay == 0 {
			delay = 3 * time.Second
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(delay):
		}
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(body)
}
