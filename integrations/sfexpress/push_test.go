package sfexpress

import (
	"errors"
	"testing"
	"time"

	"github.com/changchun-gov/courier/tracking"
)

func TestParsePush(t *testing.T) {
	body := []byte(`{"Body":{"WaybillRoute":[{"id":"158918741444476","mailno":"SF1000000000000","orderid":"CR-1",
		"acceptTime":"2025-03-01 15:02:11","acceptAddress":"长春市","remark":"顺丰速运 已收取快件","opCode":"50","reasonCode":"","reasonName":""}]}}`)
	nodes, err := ParsePush(body)
	if err != nil || len(nodes) != 1 || nodes[0].ID != "158918741444476" || nodes[0].OrderID != "CR-1" || nodes[0].OpCode != "50" {
		t.Fatalf("%+v %v", nodes, err)
	}
	n := nodes[0].Node(time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC))
	if n.Stage != tracking.StageCollected || n.Via != "push" || n.Carrier != "sfexpress" || n.WaybillNo != "SF1000000000000" ||
		!n.At.Equal(time.Date(2025, 3, 1, 7, 2, 11, 0, time.UTC)) {
		t.Fatalf("as kept: %+v", n)
	}
	for _, bad := range []string{`{}`, `not json`, `{"Body":{"WaybillRoute":[{"id":"1","orderid":"CR-1"}]}}`,
		`{"Body":{"WaybillRoute":[{"id":"1","orderid":"CR-1","acceptTime":"yesterday"}]}}`} {
		if _, err := ParsePush([]byte(bad)); !errors.Is(err, ErrBadPush) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// Signed only on the standard status 4 (or opCode 80 without one); never
// from the remark, and never with a veto word in it.
func TestStageOf(t *testing.T) {
	for _, c := range []struct {
		op, first, remark string
		want              tracking.CourierStage
	}{
		{"50", "1", "顺丰速运 已收取快件", tracking.StageCollected},
		{"54", "", "已收取快件", tracking.StageCollected},
		{"36", "2", "快件离开【长春】", tracking.StageMoving},
		{"204", "", "快件交给张师傅，正在派送途中", tracking.StageOutForDelivery},
		{"80", "4", "已签收", tracking.StageSigned},
		{"80", "", "已签收", tracking.StageSigned},
		{"99", "", "您的快件已签收", tracking.StageUnknown}, // the remark alone signs nothing
		{"80", "", "退件签收", tracking.StageReturned},
		{"80", "4", "派送失败，客户拒收", tracking.StageFailed},
		{"70", "", "派送不成功", tracking.StageFailed},
		{"204", "3", "派送失败，客户不在", tracking.StageFailed},
		{"36", "2", "快件退回途中", tracking.StageReturned},
		{"631", "", "快件已退回", tracking.StageReturned},
	} {
		if got := StageOf(c.op, c.first, c.remark); got != c.want {
			t.Errorf("StageOf(%q, %q, %q) = %q, want %q", c.op, c.first, c.remark, got, c.want)
		}
	}
}
