package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/changchun-gov/courier/integrations/simulator"
)

// simCmd runs the courier simulator alone (`courier sim`), for a service on
// DATABASE_URL: SF's and EMS's protocols on COURIER_SIM_ADDR, pushing route
// events on a timeline to the service's push endpoints.
func simCmd(ctx context.Context, env getenv, stdout, stderr io.Writer) int {
	addr := env("COURIER_SIM_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8090"
	}
	get := func(name string) string {
		v, err := secret(env, name)
		if err != nil {
			fmt.Fprintf(stderr, "courier sim: %v\n", err)
		}
		return strings.TrimSpace(v)
	}
	sf := &simulator.SF{PartnerID: env("COURIER_SF_PARTNER_ID"), CheckWord: get("COURIER_SF_CHECKWORD")}
	em := &simulator.EMS{SenderNo: env("COURIER_EMS_SENDER_NO"), Authorization: get("COURIER_EMS_AUTHORIZATION"),
		SignKey: get("COURIER_EMS_SIGN_KEY")}
	if sf.PartnerID == "" {
		sf.PartnerID = "SIM" + randomText(8)
	}
	if sf.CheckWord == "" {
		sf.CheckWord = randomText(32)
	}
	if em.SenderNo == "" {
		em.SenderNo = "SIM" + randomText(8)
	}
	if em.Authorization == "" {
		em.Authorization = randomText(24)
	}
	if k, err := base64.StdEncoding.DecodeString(em.SignKey); err != nil || len(k) != 16 {
		em.SignKey = sm4Key()
	}
	speed := 20.0
	if v := env("COURIER_SIM_SPEED"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 1 || f > 100000 {
			fmt.Fprintln(stderr, "courier sim: COURIER_SIM_SPEED: want a number from 1 to 100000")
			return 2
		}
		speed = f
	}
	tl := &simulator.Timeline{SF: sf, EMS: em, Speed: speed}
	if base, tok := strings.TrimRight(env("COURIER_SIM_PUSH_URL"), "/"), get("COURIER_PUSH_TOKEN"); base != "" && tok != "" {
		tl.SFPushURL, tl.EMSPushURL = base+"/hooks/sfexpress/"+tok, base+"/hooks/ems/"+tok
	} else {
		fmt.Fprintln(stderr, "courier sim: no COURIER_SIM_PUSH_URL and COURIER_PUSH_TOKEN: routes are kept for queries, nothing is pushed")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "courier sim: listen on %s: %v\n", addr, err)
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle("/sf/std/service", sf)
	mux.Handle("/ems/api", em)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, `courier sim: listening on %s
Point the service at it with:
  COURIER_SF_URL=%s/sf/std/service COURIER_SF_PARTNER_ID=%s COURIER_SF_CHECKWORD=%s
  COURIER_EMS_URL=%s/ems/api COURIER_EMS_SENDER_NO=%s COURIER_EMS_AUTHORIZATION=%s COURIER_EMS_SIGN_KEY=%s
`, base, base, sf.PartnerID, sf.CheckWord, base, em.SenderNo, em.Authorization, em.SignKey)
	go tl.Run(ctx, 2*time.Second)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "courier sim: %v\n", err)
		return 1
	}
	return 0
}
