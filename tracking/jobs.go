package tracking

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
)

// The housekeeping jobs, by name.
const (
	JobReminder = "reminder" // remind citizens of parcels ready and uncollected
	JobReturn   = "return"   // send parcels held past their retention back to the department
	JobSLA      = "sla"      // alert on parcels without progress beyond their leg's SLA
	JobPurge    = "purge"    // purge personal data after the journey ended
	JobDigest   = "digest"   // make the daily digests of the event log
	// JobCourierSync queries the courier's routes of the runs it went quiet about.
	JobCourierSync = "courier_sync"
)

// JobSetting is a job's schedule and parameters, kept by administrators.
type JobSetting struct {
	Name      string          `json:"name"`
	Enabled   bool            `json:"enabled"`
	Schedule  string          `json:"schedule"`
	Params    json.RawMessage `json:"params"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// JobParams are the parameters the jobs read (zero: the default).
type JobParams struct {
	FirstAfterDays int `json:"first_after_days,omitempty"` // reminder: first reminder after this many days ready (3)
	EveryDays      int `json:"every_days,omitempty"`       // reminder: then every this many days (7)
	AfterDays      int `json:"after_days,omitempty"`       // purge: this many days after the journey ended (180)
	QuietMinutes   int `json:"quiet_minutes,omitempty"`    // courier_sync: query a route the courier told nothing of for this long (60)
}

// DefaultJobs are the jobs' settings inserted where absent.
var DefaultJobs = []JobSetting{
	{Name: JobReminder, Enabled: true, Schedule: "0 10 * * *", Params: json.RawMessage(`{"first_after_days":3,"every_days":7}`)},
	{Name: JobReturn, Enabled: true, Schedule: "30 8 * * *", Params: json.RawMessage(`{}`)},
	{Name: JobSLA, Enabled: true, Schedule: "15,45 * * * *", Params: json.RawMessage(`{}`)},
	{Name: JobPurge, Enabled: true, Schedule: "0 3 * * *", Params: json.RawMessage(`{"after_days":180}`)},
	{Name: JobDigest, Enabled: true, Schedule: "30 0 * * *", Params: json.RawMessage(`{}`)},
	{Name: JobCourierSync, Enabled: true, Schedule: "*/10 * * * *", Params: json.RawMessage(`{"quiet_minutes":60}`)},
}

// JobRun is one run of a job, for the history administrators see.
type JobRun struct {
	ID         int64           `json:"id"`
	Name       string          `json:"name"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	Outcome    string          `json:"outcome"`
	Affected   int             `json:"affected"`
	Detail     json.RawMessage `json:"detail"`
	Error      string          `json:"error,omitempty"`
}

// JobReport is what a job did.
type JobReport struct {
	Affected int
	Detail   map[string]any
}

// JobsView is the jobs' settings with every job's newest runs.
type JobsView struct {
	Items      []JobSetting `json:"items"`
	RecentRuns []JobRun     `json:"recent_runs"`
}

// CheckJobParams checks a job's parameters as an administrator sends them:
// a JSON object of JobParams' fields only, each in range (no negative days;
// at most a year between reminders, ten years before a purge). It returns
// them as they are kept, {} when none were sent.
//
// Errors: job.params_invalid (invalid).
func CheckJobParams(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage(`{}`), nil
	}
	var p JobParams
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.FirstAfterDays < 0 || p.EveryDays < 0 || p.AfterDays < 0 ||
		p.FirstAfterDays > 365 || p.EveryDays > 365 || p.AfterDays > 3650 || p.QuietMinutes < 0 || p.QuietMinutes > 7*24*60 {
		return nil, apperr.New(apperr.Invalid, "job.params_invalid").OnField("params")
	}
	return raw, nil
}
