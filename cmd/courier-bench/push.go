package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"
)

// The courier's pushes, beside the scans of the same run: SF's route push
// (POST /hooks/sfexpress/{token}, its real body) of nodes of runs booked
// with the in-process simulator. Each node is new (its own time); the first
// push of a run picks its bag up (a state change with its events, as the
// courier's scan of the bag), the rest are kept and answered. Target: at
// least pushNodesTarget nodes a second, and a one-node push no dearer than a
// pickup scan (pushes/s ≥ pushRatioTarget × the median pickup round's
// scans/s).
const (
	pushOrigin      = "D-GT" // the runs pushed of leave here (not the scans' origin: its parcels stay unbagged)
	pushRuns        = 20     // a leg makes one run a second: 20 seconds of set-up
	pushNodesTarget = 1000
	pushRatioTarget = 1.0
)

// pushTarget is a booked run as SF knows it.
type pushTarget struct {
	orderID, waybill string
}

// prepareBookedRuns makes n runs of a leg from pushOrigin, one parcel each,
// and waits until the simulator booked them all.
func (b *bench) prepareBookedRuns(ctx context.Context, a *api, adminTok string, n int) ([]pushTarget, error) {
	var legs struct {
		Items []struct {
			ID     int64  `json:"id"`
			From   string `json:"from_site"`
			Active bool   `json:"active"`
		} `json:"items"`
	}
	if err := a.send(ctx, "GET", "/api/v1/routes", adminTok, nil, 200, &legs); err != nil {
		return nil, err
	}
	var leg int64
	for _, l := range legs.Items {
		if l.From == pushOrigin && l.Active {
			leg = l.ID
			break
		}
	}
	if leg == 0 {
		return nil, fmt.Errorf("no active leg from %s", pushOrigin)
	}
	runs := make([]string, n)
	for i := range n {
		body := fmt.Appendf(nil, `{"kind":"certificate","origin_site":%q,"destination":{"kind":"hall","site":%q},`+
			`"applicant":{"type":"natural","name":"张三","phone":"13812345678","id_type":"resident_id","id_number":"11010519491231002X"},`+
			`"certificate":{"type":"business_licence","number":"P%d"},"application_no":"BENCH-PUSH-%d"}`, pushOrigin, benchHall, i, i)
		status, resp, err := doRequest(a.hc, "POST", a.base+"/api/v1/parcels", adminTok, body)
		if err != nil || status != 201 {
			return nil, fmt.Errorf("register a parcel at %s: %d %s %v", pushOrigin, status, truncate(resp, 200), err)
		}
		var run struct {
			RunNo string `json:"run_no"`
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		for run.RunNo == "" {
			status, resp, err := doRequest(a.hc, "POST", a.base+fmt.Sprintf("/api/v1/routes/%d/run", leg), adminTok, nil)
			if err == nil {
				err = json.Unmarshal(resp, &run)
			}
			switch {
			case err != nil:
				return nil, err
			case status == 409 && run.Error.Code == "run.slot_taken":
				time.Sleep(200 * time.Millisecond) // this second's run is made: the next second's
			case status != 201:
				return nil, fmt.Errorf("a run from %s: %d %s", pushOrigin, status, truncate(resp, 200))
			}
		}
		runs[i] = run.RunNo
	}
	out := make([]pushTarget, n)
	deadline := time.Now().Add(2 * time.Minute)
	for i, no := range runs {
		for {
			var r struct {
				Booking struct {
					Status     string `json:"status"`
					CarrierRef string `json:"carrier_ref"`
				} `json:"booking"`
			}
			if err := a.send(ctx, "GET", "/api/v1/runs/"+no, adminTok, nil, 200, &r); err != nil {
				return nil, err
			}
			if r.Booking.Status == "booked" && r.Booking.CarrierRef != "" {
				out[i] = pushTarget{orderID: no, waybill: r.Booking.CarrierRef}
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("run %s not booked with the simulator within 2 minutes (booking %s)", no, r.Booking.Status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return out, nil
}

// pushSource sends SF route pushes of nodes nodes each, round the targets;
// every node has a time of its own, so each is new to the ledger.
func pushSource(targets []pushTarget, token string, nodes int) scanSource {
	var next atomic.Int64
	base := time.Now().Add(-24 * time.Hour)
	path := "/hooks/sfexpress/" + token
	return func(w, n int) (scanJob, bool) {
		k := next.Add(1) - 1
		t := targets[int(k)%len(targets)]
		body := []byte(`{"Body":{"WaybillRoute":[`)
		for j := range nodes {
			if j > 0 {
				body = append(body, ',')
			}
			at := base.Add(time.Duration(k*int64(nodes)+int64(j)) * time.Second).In(beijingZone)
			body = fmt.Appendf(body, `{"id":"%d","mailno":%q,"orderid":%q,"acceptTime":%q,"acceptAddress":"长春市",`+
				`"remark":"快件离开【长春南关营业点】，已在发往【长春转运中心】的路上","opCode":"36","firstStatusCode":"2","firstStatusName":"运送中"}`,
				k*int64(nodes)+int64(j), t.waybill, t.orderID, at.Format(time.DateTime))
		}
		body = append(body, "]}}"...)
		return scanJob{action: "push", body: body, path: path, push: true, nodes: nodes}, true
	}
}

var beijingZone = time.FixedZone("CST", 8*3600)

// judgePush sets a push run's ratio to the pickups' scans/s and its verdict.
func (r *scanResult) judgePush(pickups scanResult, target float64) {
	r.PickupsPerSec = pickups.PerSec
	r.Ratio = 0
	if pickups.PerSec > 0 {
		r.Ratio = r.PerSec / pickups.PerSec
	}
	r.Target = target
	r.Pass = r.Errors == 0 && r.NodesPerSec >= pushNodesTarget && r.Ratio >= target
}
