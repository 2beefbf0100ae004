package main

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// baselinePoolSize matches the service's default COURIER_DB_MAX_CONNS, so
// the comparison is about the handler's work, not the pool (STACK-NOTES §7:
// on two cores the pool size makes no difference anyway).
const baselinePoolSize = 16

// baselineServer is baseline B: the least a track endpoint can do with Fiber
// and pgx, one primary-key read and a small JSON answer, in this process.
type baselineServer struct {
	app  *fiber.App
	pool *pgxpool.Pool
	addr string
	done chan error
}

// startBaseline serves GET /t/:no on a free 127.0.0.1 port, reading the
// parcel's status from the courier database.
func startBaseline(ctx context.Context, dsn string) (*baselineServer, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = baselinePoolSize
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pool.Close()
		return nil, err
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/t/:no", func(c *fiber.Ctx) error {
		var status string
		var updated time.Time
		err := pool.QueryRow(c.UserContext(), `SELECT status, updated_at FROM parcels WHERE waybill_no=$1`,
			c.Params("no")).Scan(&status, &updated)
		if errors.Is(err, pgx.ErrNoRows) {
			return c.SendStatus(fiber.StatusNotFound)
		}
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"waybill_no": c.Params("no"), "status": status, "updated_at": updated})
	})
	s := &baselineServer{app: app, pool: pool, addr: ln.Addr().String(), done: make(chan error, 1)}
	go func() { s.done <- app.Listener(ln) }()
	return s, nil
}

// stop shuts the server down and closes its pool.
func (s *baselineServer) stop() error {
	err := s.app.ShutdownWithTimeout(5 * time.Second)
	<-s.done
	s.pool.Close()
	return err
}
