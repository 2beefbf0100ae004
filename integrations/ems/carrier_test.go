package ems_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/changchun-gov/courier/integrations/ems"
	"github.com/changchun-gov/courier/integrations/simulator"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// A run's bag is booked as one EMS order; a lost answer is an unknown
// outcome for a person to check (EMS has no order query), never an order
// placed again by itself; every call is recorded.
func TestCarrierBooksARun(t *testing.T) {
	t.Parallel()
	sim, c := start(t, key, 300*time.Millisecond)
	var kept []tracking.CourierExchange
	site := shipment.Site{NameZH: "长春市政务服务中心", Province: "吉林省", City: "长春市", District: "南关区", Street: "人民大街", Detail: "2号"}
	carrier := &ems.Carrier{Client: c, Site: func(string) (shipment.Site, bool) { return site, true },
		Record: func(_ context.Context, x tracking.CourierExchange) { kept = append(kept, x) }}
	b := tracking.Booking{RunNo: "CR7151817837187U", BagNo: "CB22082927651327", FromSite: "CC-WIN", ToSite: "NA-HALL", Parcels: 2}
	ref, err := carrier.Book(context.Background(), b)
	if err != nil || ref == "" {
		t.Fatalf("book: %q %v", ref, err)
	}
	sim.Fail(simulator.FaultDrop)
	if _, err := carrier.Book(context.Background(), tracking.Booking{RunNo: "CR-LOST", FromSite: "CC-WIN", ToSite: "NA-HALL"}); !errors.Is(err, ems.ErrUnknownOutcome) {
		t.Fatalf("lost answer: %v", err)
	}
	if len(kept) != 2 || kept[0].Outcome != "ok" || kept[1].Outcome != "no_answer" || kept[0].Carrier != "ems" || kept[0].OrderID != b.RunNo {
		t.Fatalf("recorded %+v", kept)
	}
}

// The mapping: 704 is signed; names map the rest, the longest word first;
// nothing is signed by its name.
func TestMapping(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		it   ems.TraceItem
		want tracking.CourierStage
	}{
		{ems.TraceItem{OpCode: "704", OpName: "投递结果反馈-妥投"}, tracking.StageSigned},
		{ems.TraceItem{OpCode: "203", OpName: "收寄计费信息"}, tracking.StageCollected},
		{ems.TraceItem{OpCode: "20", OpName: "运输"}, tracking.StageMoving},
		{ems.TraceItem{OpCode: "702", OpName: "投递结果反馈-未妥投"}, tracking.StageFailed},
		{ems.TraceItem{OpCode: "999", OpName: "妥投"}, tracking.StageUnknown},
	} {
		if got := ems.DefaultMapping.Stage(c.it); got != c.want {
			t.Errorf("%+v: %q, want %q", c.it, got, c.want)
		}
	}
	n := ems.DefaultMapping.Node(ems.TraceItem{WaybillNo: "1100000000000", OrderNo: "CR-1", OpTime: "2026-12-03 16:56:50", OpCode: "704"},
		"push", time.Now())
	if n.Stage != tracking.StageSigned || !n.At.Equal(time.Date(2026, 12, 3, 8, 56, 50, 0, time.UTC)) || n.Carrier != "ems" {
		t.Fatalf("node %+v", n)
	}
}
