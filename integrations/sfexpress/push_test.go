package sfexpress

import (
	"errors"
	"testing"
)

func TestParsePush(t *testing.T) {
	body := []byte(`{"Body":{"WaybillRoute":[{"id":"158918741444476","mailno":"SF1000000000000","orderid":"CR-1",
		"acceptTime":"2025-03-01 15:02:11","acceptAddress":"长春市","remark":"顺丰速运 已收取快件","opCode":"50","reasonCode":"","reasonName":""}]}}`)
	nodes, err := ParsePush(body)
	if err != nil || len(nodes) != 1 || nodes[0].ID != "158918741444476" || nodes[0].OrderID != "CR-1" || nodes[0].OpCode != "50" {
		t.Fatalf("%+v %v", nodes, err)
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
		want              Stage
	}{
		{"50", "1", "顺丰速运 已收取快件", StageCollected},
		{"54", "", "已收取快件", StageCollected},
		{"36", "2", "快件离开【长春】", StageMoving},
		{"204", "", "快件交给张师傅，正在派送途中", StageOutForDelivery},
		{"80", "4", "已签收", StageSigned},
		{"80", "", "已签收", StageSigned},
		{"99", "", "您的快件已签收", StageUnknown}, // the remark alone signs nothing
		{"80", "", "退件签收", StageReturned},
		{"80", "4", "派送失败，客户拒收", StageFailed},
		{"70", "", "派送不成功", StageFailed},
		{"204", "3", "派送失败，客户不在", StageFailed},
		{"36", "2", "快件退回途中", StageReturned},
		{"631", "", "快件已退回", StageReturned},
	} {
		if got := StageOf(c.op, c.first, c.remark); got != c.want {
			t.Errorf("StageOf(%q, %q, %q) = %q, want %q", c.op, c.first, c.remark, got, c.want)
		}
	}
}
