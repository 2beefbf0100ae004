package tracking_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// Timeline folds events newest first, in Asia/Shanghai time, leaving out
// events that change no state.
func ExampleTimeline() {
	at := time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC)
	events := []tracking.Event{
		{Seq: 1, Action: shipment.ActRegister, StatusAfter: shipment.Registered, Site: "D-SW", ServerTime: at},
		{Seq: 2, Action: shipment.ActLabelPrinted, StatusAfter: shipment.Registered, Site: "D-SW", ServerTime: at.Add(time.Minute)},
		{Seq: 3, Action: shipment.ActPickup, StatusAfter: shipment.InTransit, Site: "D-SW", ServerTime: at.Add(time.Hour)},
		{Seq: 4, Action: shipment.ActReceive, StatusAfter: shipment.Arrived, Site: "ED-HALL", ServerTime: at.Add(3 * time.Hour)},
	}
	names := map[string]string{"D-SW": "长春市商务局", "ED-HALL": "二道区政务服务中心"}
	words := map[string]string{"status.registered": "已登记", "status.in_transit": "运输中", "status.arrived": "已到达",
		"action.register": "登记", "action.pickup": "揽收", "action.receive": "到达签收"}
	for _, e := range tracking.Timeline(events, func(c string) string { return names[c] }, func(k string) string { return words[k] }) {
		fmt.Println(e.At.Format("01-02 15:04 -07:00"), e.StatusText, e.ActionText, e.Place)
	}
	// Output:
	// 11-27 12:30 +08:00 已到达 到达签收 二道区政务服务中心
	// 11-27 10:30 +08:00 运输中 揽收 长春市商务局
	// 11-27 09:30 +08:00 已登记 登记 长春市商务局
}

// A move between shelf slots is not a step of the journey: the public
// timeline leaves it out.
func TestTimelineLeavesOutReslot(t *testing.T) {
	events := []tracking.Event{
		{Seq: 5, Action: shipment.ActShelve, StatusAfter: shipment.Ready, Site: "CC-WIN", Slot: "A-03-2"},
		{Seq: 6, Action: shipment.ActReslot, StatusBefore: shipment.Ready, StatusAfter: shipment.Ready, Site: "CC-WIN", Slot: "B-01"},
	}
	tl := tracking.Timeline(events, func(c string) string { return c }, func(k string) string { return k })
	if len(tl) != 1 || tl[0].Action != shipment.ActShelve {
		t.Fatalf("timeline %+v", tl)
	}
}

// WithCourier puts the courier's nodes into the timeline as one story: the
// collected node is the pickup already there; the others each once, in the
// state the parcel was in, newest first.
func ExampleWithCourier() {
	at := tracking.Local(time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)) // a timeline is in Beijing time
	entries := []tracking.TimelineEntry{
		{At: at.Add(4 * time.Hour), Action: shipment.ActReceive, Status: shipment.Arrived, StatusText: "已到达"},
		{At: at.Add(30 * time.Minute), Action: shipment.ActPickup, Status: shipment.InTransit, StatusText: "运输中"},
		{At: at, Action: shipment.ActRegister, Status: shipment.Registered, StatusText: "已登记"},
	}
	nodes := []tracking.RouteNode{
		{Carrier: "sfexpress", At: at.Add(30 * time.Minute), Stage: tracking.StageCollected},
		{Carrier: "sfexpress", At: at.Add(90 * time.Minute), Stage: tracking.StageMoving},
		{Carrier: "sfexpress", At: at.Add(210 * time.Minute), Stage: tracking.StageSigned},
		{Carrier: "sfexpress", At: at.Add(220 * time.Minute), Stage: tracking.StageUnknown},
	}
	text := map[string]string{"runs.carrier.sfexpress": "顺丰速运", "courier_stage.moving": "运送中", "courier_stage.signed": "已签收"}
	for _, e := range tracking.WithCourier(entries, nodes, func(k string) string { return text[k] }) {
		fmt.Println(e.At.Format("15:04"), e.Action, e.ActionText, e.StatusText)
	}
	// Output:
	// 13:00 receive  已到达
	// 12:30 courier 顺丰速运：已签收 运输中
	// 10:30 courier 顺丰速运：运送中 运输中
	// 09:30 pickup  运输中
	// 09:00 register  已登记
}
