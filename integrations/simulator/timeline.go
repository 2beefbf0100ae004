package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/changchun-gov/courier/integrations/ems"
)

// Timeline moves the simulators' orders along a route on their own, as
// the couriers' networks do: each order placed gets the route's steps as
// their times come (compressed by Speed), and the nodes not yet accepted
// are pushed to the push endpoints, again until they are accepted.
type Timeline struct {
	SF  *SF
	EMS *EMS
	// SFPushURL and EMSPushURL are the service's push endpoints ("": no
	// pushes; the routes are still there to query).
	SFPushURL, EMSPushURL string
	// Steps is the route every order follows (nil: TimelineRoute).
	Steps []Step
	// Speed compresses the route's times: 60 plays an hour in a minute
	// (0: 1, real time).
	Speed  float64
	Client *http.Client
	Now    func() time.Time

	serial atomic.Int64
}

// TimelineRoute is StandardRoute begun half an hour after the order (the
// courier's way to the pickup).
var TimelineRoute = func() []Step {
	out := make([]Step, len(StandardRoute))
	for i, st := range StandardRoute {
		out[i] = Step{st.After + 30*time.Minute, st.Route}
	}
	return out
}()

// EMSRoute is StandardRoute as EMS's trace items tell it (EMS publishes no
// code table: the names are those of its public trace pages, 704 the one
// code seen).
var EMSRoute = []ems.TraceItem{
	{OpCode: "203", OpName: "收寄", OpDesc: "邮政EMS 已收寄"},
	{OpCode: "306", OpName: "离开", OpDesc: "离开长春邮区中心局，发往长春市南关揽投部"},
	{OpCode: "702", OpName: "投递", OpDesc: "正在投递，投递员：李师傅"},
	{OpCode: "704", OpName: "妥投", OpDesc: "已妥投，签收人：本人"},
}

func (t *Timeline) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// due is when a step's time comes for an order placed at created.
func (t *Timeline) due(created time.Time, after time.Duration) time.Time {
	speed := t.Speed
	if speed <= 0 {
		speed = 1
	}
	return created.Add(time.Duration(float64(after) / speed))
}

// Tick adds the steps whose time has come and pushes what is not yet
// accepted. It returns the nodes pushed and accepted.
func (t *Timeline) Tick(ctx context.Context) (int, error) {
	steps := t.Steps
	if steps == nil {
		steps = TimelineRoute
	}
	now := t.now()
	client := t.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	accepted := 0
	if t.SF != nil {
		var ids []string
		t.SF.mu.Lock()
		for id, o := range t.SF.orders {
			for o.played < len(steps) && !o.cancelled && !t.due(o.created, steps[o.played].After).After(now) {
				r := steps[o.played].Route
				r.AcceptTime = t.due(o.created, steps[o.played].After).In(beijing).Format(time.DateTime)
				o.routes = append(o.routes, r)
				o.nodeIDs = append(o.nodeIDs, t.SF.nodeID())
				o.played++
			}
			if o.pushed < len(o.routes) {
				ids = append(ids, id)
			}
		}
		t.SF.mu.Unlock()
		sort.Strings(ids)
		if t.SFPushURL != "" {
			for _, id := range ids {
				out, err := t.SF.Push(ctx, client, t.SFPushURL, id)
				if err != nil {
					return accepted, err
				}
				if out.Accepted {
					accepted += out.Nodes
				}
			}
		}
	}
	if t.EMS != nil {
		type pending struct {
			no    string
			items []ems.TraceItem
		}
		var todo []pending
		t.EMS.mu.Lock()
		for no, o := range t.EMS.orders {
			for o.played < len(steps) && o.played < len(EMSRoute) && !t.due(o.created, steps[o.played].After).After(now) {
				it := EMSRoute[o.played]
				it.WaybillNo, it.OrderNo = o.waybill, no
				it.OpTime = t.due(o.created, steps[o.played].After).In(beijing).Format(ems.TimeLayout)
				o.trace = append(o.trace, it)
				o.played++
			}
			if o.pushed < len(o.trace) {
				todo = append(todo, pending{no, append([]ems.TraceItem(nil), o.trace[o.pushed:]...)})
			}
		}
		t.EMS.mu.Unlock()
		sort.Slice(todo, func(i, j int) bool { return todo[i].no < todo[j].no })
		if t.EMSPushURL != "" {
			for _, p := range todo {
				ok, err := t.pushEMS(ctx, client, p.items)
				if err != nil {
					return accepted, err
				}
				if ok {
					accepted += len(p.items)
					t.EMS.mu.Lock()
					t.EMS.orders[p.no].pushed += len(p.items)
					t.EMS.mu.Unlock()
				}
			}
		}
	}
	return accepted, nil
}

// pushEMS sends one trace push; true when the endpoint answered 00000
// with the push's serial number.
func (t *Timeline) pushEMS(ctx context.Context, client *http.Client, items []ems.TraceItem) (bool, error) {
	serial := fmt.Sprintf("SIM%d%06d", t.now().Unix(), t.serial.Add(1))
	body, err := t.EMS.PushBody(serial, items)
	if err != nil {
		return false, err
	}
	b, answered, err := postPush(ctx, client, t.EMSPushURL, body)
	if err != nil || !answered {
		return false, err // not answered: pushed again later
	}
	var reply struct {
		SerialNo string `json:"serialNo"`
		Code     string `json:"code"`
	}
	return json.Unmarshal(b, &reply) == nil && reply.Code == ems.RetOK && reply.SerialNo == serial, nil
}

// Run ticks every interval until ctx ends.
func (t *Timeline) Run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		_, _ = t.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// postPush posts a push's JSON body and reads the answer (false: none came).
func postPush(ctx context.Context, client *http.Client, url string, body []byte) ([]byte, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	resp, err := client.Do(req)
	if err != nil {
		return nil, false, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return b, true, nil
}
