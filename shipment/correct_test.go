package shipment

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
)

// TestCorrectUndoesEveryCorrectableAction takes each action a correction
// may undo, from each state it is taken from, applies it as the ledger
// would (with the slot, run and ready columns), and checks DecideCorrect
// puts back every column the action changed, from what its event records.
func TestCorrectUndoesEveryCorrectableAction(t *testing.T) {
	t.Parallel()
	for _, a := range correctable {
		for _, from := range From(a) {
			resolutions := []Resolution{""}
			if a == ActResolve {
				resolutions = []Resolution{ResolveRestore, ResolveReroute, ResolveReturn}
			}
			for _, res := range resolutions {
				t.Run(fmt.Sprintf("%s/%s/%s", a, from, res), func(t *testing.T) {
					t.Parallel()
					p, c := decPositioned(a, from)
					if res != "" {
						c.Resolution = res
					}
					p.CurrentRun, p.RunSealed = 42, a != ActCancel // a sealed run's parcel is not cancelled
					if from == Ready || (from == Exception && p.PrevStatus == Ready) {
						p.Slot = "A-01"
					}
					orig := decClone(p)
					o, err := Decide(p, c)
					if err != nil {
						t.Fatalf("decide: %v", err)
					}
					before := BeforeOf(p, a, o)
					after := decClone(p)
					decApply(after, o, c)
					// The columns the ledger sets beyond the outcome (applyStmt).
					switch {
					case a.TakesSlot():
						after.Slot = c.Slot
					case o.To != Ready && o.To != Exception:
						after.Slot = ""
					}
					if a.LeavesRun() {
						after.CurrentRun, after.RunSealed = 0, false
					}
					last := Change{Seq: 7, Action: a, StatusBefore: from, StatusAfter: o.To, Site: o.Site,
						ActorRole: RoleStaff, At: c.Now, Before: before, Slot: c.Slot, FromSlot: orig.Slot}
					lead := Actor{ID: 9, Role: RoleAdmin}
					r, err := DecideCorrect(after, last, Command{Action: ActCorrect, Actor: lead, Now: c.Now.Add(time.Hour),
						Reason: "wrong_action"}, 7)
					if err != nil {
						t.Fatalf("correct: %v", err)
					}
					got := []any{r.To, r.PrevStatus, r.Path, r.PathIdx, r.LegMoving, r.Slot, r.Run, r.RunSealed}
					want := []any{orig.Status, orig.PrevStatus, orig.Path, orig.PathIdx, orig.LegMoving, orig.Slot,
						orig.CurrentRun, orig.RunSealed}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("restored %v, want %v", got, want)
					}
					if r.Unshelve != (a == ActShelve) {
						t.Errorf("unshelve %v", r.Unshelve)
					}
				})
			}
		}
	}
}

func TestCorrectRefusals(t *testing.T) {
	t.Parallel()
	p := decCert()
	p.Status, p.PathIdx = Ready, 1
	last := Change{Seq: 5, Action: ActShelve, StatusBefore: Arrived, StatusAfter: Ready, Site: "CC-WIN",
		ActorRole: RoleStaff, At: decT0}
	lead := Actor{ID: 3, Role: RoleHallLead, Site: "CC-WIN"}
	cmd := Command{Action: ActCorrect, Actor: lead, Now: decT0.Add(time.Minute), Reason: "too_early"}
	if _, err := DecideCorrect(p, last, cmd, 5); err != nil {
		t.Fatalf("the lead corrects the hall's shelve: %v", err)
	}
	for name, tc := range map[string]struct {
		mod  func(*Parcel, *Change, *Command) int
		code string
	}{
		"staff":      {func(_ *Parcel, _ *Change, c *Command) int { c.Actor.Role = RoleStaff; return 0 }, "action.role_forbidden"},
		"other hall": {func(_ *Parcel, _ *Change, c *Command) int { c.Site = "NG-HALL"; return 0 }, "scan.other_site"},
		"made there": {func(_ *Parcel, l *Change, _ *Command) int { l.Site = "NG-HALL"; return 0 }, "correct.other_site"},
		"no reason":  {func(_ *Parcel, _ *Change, c *Command) int { c.Reason = ""; return 0 }, "reason.required"},
		"report's":   {func(_ *Parcel, _ *Change, c *Command) int { c.Reason = "damaged"; return 0 }, "reason.unknown"},
		"stale":      {func(*Parcel, *Change, *Command) int { return 4 }, "correct.not_latest"},
		"register":   {func(_ *Parcel, l *Change, _ *Command) int { l.Action = ActRegister; return 0 }, "correct.nothing"},
		"twice":      {func(_ *Parcel, l *Change, _ *Command) int { l.Action = ActCorrect; return 0 }, "correct.already"},
		"book":       {func(_ *Parcel, l *Change, _ *Command) int { l.Action = ActBook; return 0 }, "correct.not_allowed"},
		"not now":    {func(p *Parcel, _ *Change, _ *Command) int { p.Status = Collected; return 0 }, "correct.not_allowed"},
		"by the job": {func(_ *Parcel, l *Change, _ *Command) int { l.ActorRole = RoleSystem; return 0 }, "correct.by_schedule"},
		"a week on":  {func(_ *Parcel, _ *Change, c *Command) int { c.Now = decT0.Add(CorrectWindow + time.Second); return 0 }, "correct.too_late"},
	} {
		q, l, c := decClone(p), last, cmd
		undo := tc.mod(q, &l, &c)
		if _, err := DecideCorrect(q, l, c, undo); apperr.CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
}
