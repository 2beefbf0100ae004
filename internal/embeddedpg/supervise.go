package embeddedpg

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Restart backoff: the first attempt follows the exit after minBackoff
// (orphaned backends of a killed postmaster need a moment to notice and
// exit; until they have, PostgreSQL refuses to start on the data
// directory), each failed attempt doubles the wait up to maxBackoff. A
// cluster that stays up for stableAfter resets the backoff; one that dies
// sooner again starts from where the backoff was, so a crash loop slows
// down rather than spins.
const (
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 5 * time.Second
	stableAfter = time.Minute
)

// Supervisor keeps an embedded cluster running: when its postmaster exits
// without Stop having been called (killed, crashed, out of memory), it
// starts the server again with the same options. PostgreSQL's crash recovery
// replays the write-ahead log on that start, so every transaction that
// committed before the exit is there again (on a Durable cluster). Each exit
// and each restart is logged with the cluster directory, the exit status
// and the attempt: never a query or its data.
//
// Connections open at the exit are lost; a pgx pool on Cluster.DSN (which
// stays the same) makes new ones once the server is back.
type Supervisor struct {
	opts   Options
	logger *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	current  *Cluster
	restarts int
	up       bool

	stopOnce sync.Once
	stopErr  error
}

// Supervise watches c, which Start returned for opts, and restarts it
// whenever its postmaster exits unexpectedly, until Stop. From then on stop
// the cluster through the Supervisor, not c.
func Supervise(c *Cluster, opts Options) *Supervisor {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Supervisor{opts: opts, logger: logger, ctx: ctx, cancel: cancel, done: make(chan struct{}), current: c, up: true}
	go s.watch()
	return s
}

// Cluster returns the cluster now running (or last run).
func (s *Supervisor) Cluster() *Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// Restarts returns how many times the server was started again.
func (s *Supervisor) Restarts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}

// Up reports whether the server is running (false from an unexpected exit
// until the restart is ready).
func (s *Supervisor) Up() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.up
}

// Stop stops supervising and shuts the server down (see Cluster.Stop). A
// restart under way is abandoned, and its server stopped. Stop is
// idempotent.
func (s *Supervisor) Stop() error {
	s.stopOnce.Do(func() {
		s.cancel()
		<-s.done
		s.stopErr = s.Cluster().Stop()
	})
	return s.stopErr
}

// watch waits for the postmaster to exit and starts it again, until Stop.
func (s *Supervisor) watch() {
	defer close(s.done)
	backoff := minBackoff
	for {
		c := s.Cluster()
		began := time.Now()
		select {
		case <-s.ctx.Done():
			return
		case <-c.exited:
		}
		if s.ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		s.up = false
		s.mu.Unlock()
		down := time.Now()
		if down.Sub(began) >= stableAfter {
			backoff = minBackoff
		}
		s.logger.Error("embedded PostgreSQL exited unexpectedly; starting it again (crash recovery)",
			"dir", c.dir, "pid", c.cmd.Process.Pid, "status", exitStatus(c.waitErr), "retry_in", backoff)
		_ = c.Stop() // closes its log; the server is gone already

		for attempt := 1; ; attempt++ {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			next, err := Start(s.ctx, s.opts)
			if s.ctx.Err() != nil {
				if err == nil {
					_ = next.Stop()
				}
				return
			}
			if err != nil {
				s.logger.Warn("embedded PostgreSQL did not start again; retrying",
					"dir", c.dir, "attempt", attempt, "retry_in", backoff, "err", firstLine(err))
				continue
			}
			s.mu.Lock()
			s.current, s.up = next, true
			s.restarts++
			s.mu.Unlock()
			s.logger.Warn("embedded PostgreSQL restarted after an unexpected exit",
				"dir", c.dir, "pid", next.cmd.Process.Pid, "attempt", attempt,
				"down_for", time.Since(down).Round(time.Millisecond))
			break
		}
	}
}

// exitStatus describes how the postmaster ended ("signal: killed", "exit
// status 1").
func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// firstLine is the first line of an error from Start, without the server
// log's tail that follows it (which may quote statements).
func firstLine(err error) string {
	msg := err.Error()
	if errors.Is(err, ErrInUse) {
		return msg
	}
	msg, _, _ = strings.Cut(msg, "\n")
	msg, _, _ = strings.Cut(msg, "; server log:")
	return msg
}
