package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// With no SMS gateway configured, the ready SMS stays queued and says why;
// nothing is called sent and no message_sent event is written.
func TestSMSStaysQueuedWithoutGateway(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	no := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678")).str("waybill_no")
	for _, st := range []struct{ who, action, site string }{
		{"courier", "pickup", "D-SW"}, {"staff", "receive", "CC-WIN"}, {"staff", "shelve", "CC-WIN"},
	} {
		if r := s.scan(tok[st.who], no, st.action, st.site); r.Status != 200 {
			t.Fatalf("%s: %d %s", st.action, r.Status, r.Body)
		}
	}
	// The dispatcher is kicked by the shelve; it marks the message within moments.
	var m map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		items, _ := s.must(200, "GET", "/api/v1/messages?waybill_no="+no, tok["admin"], nil).JSON["items"].([]any)
		if len(items) == 1 {
			m = items[0].(map[string]any)
			if m["last_error"] == "no_gateway" || m["status"] != "queued" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("message not marked within 10 s: %v", items)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m["status"] != "queued" || m["sent_at"] != nil || m["last_error"] != "no_gateway" || !strings.Contains(m["note"].(string), "短信网关") {
		t.Fatalf("message without a gateway: %v", m)
	}
	evs := s.must(200, "GET", "/api/v1/parcels/"+no+"/events", tok["admin"], nil)
	if strings.Contains(string(evs.Body), `"message_sent"`) {
		t.Fatalf("message_sent written with no gateway: %s", evs.Body)
	}
}

// A lost secrets file does not silently become new keys over an old
// database: the start is refused, clearly, and no new file is left behind.
func TestLostSecretsFileIsRefused(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	data := filepath.Join(dir, "var")
	env := map[string]string{"COURIER_DATA_DIR": data, "COURIER_DEMO": "0", "COURIER_ADDR": "127.0.0.1:0", "COURIER_PASSWORD_COST": "4",
		"COURIER_ADMIN_PASSWORD": adminPassword}
	s := bootEnv(t, env)
	tok := s.login("admin", adminPassword)
	s.must(201, "POST", "/api/v1/parcels", tok, parcelBody("13912345678"))
	if code := s.stop(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, s.stderr.String())
	}
	waitNoPostgres(t, dir, 5*time.Second)

	path := filepath.Join(data, "secrets.json")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	// Were the start not refused, the service would serve until the deadline and exit 0.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr lockedBuffer
	code := run(ctx, nil, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "secrets.json is missing") ||
		!strings.Contains(stderr.String(), "keys do not match this database") {
		t.Fatalf("start without the secrets file: %d\n%s", code, stderr.String())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a new secrets file was left beside the old database: %v", err)
	}
	waitNoPostgres(t, dir, 5*time.Second)
}

// Keys given in the environment that the database was not written with are
// refused.
func TestOtherKeysAreRefused(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	env := s.env()
	s.stop()
	env2 := map[string]string{}
	for k, v := range env {
		env2[k] = v
	}
	env2["COURIER_DATA_KEY"] = randomKey()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr lockedBuffer
	if code := run(ctx, nil, func(k string) string { return env2[k] }, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "COURIER_DATA_KEY is not the key it was written with") {
		t.Fatalf("start with another data key: %d\n%s", code, stderr.String())
	}
}
