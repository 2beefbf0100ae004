package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// The README's curl walk works as written.
func TestReadmeWalk(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is needed: apt-get install curl")
		}
		t.Skip("curl is needed: apt-get install curl")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, walk, ok := strings.Cut(string(readme), "## API walk")
	if !ok {
		t.Fatal("README has no API walk")
	}
	block := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(walk)
	if block == nil {
		t.Fatal("README's API walk has no sh block")
	}
	s := boot(t, nil)
	cmd := exec.Command("bash", "-eu", "-o", "pipefail", "-c", block[1])
	cmd.Env = append(os.Environ(), "COURIER_URL="+s.checkedBase(), "ADMIN_PASSWORD="+adminPassword)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walk failed: %v\n%s", err, out)
	}
	o := string(out)
	if strings.Contains(o, `"error"`) {
		t.Fatalf("a step of the walk was refused:\n%s", o)
	}
	for _, want := range []string{`"status":"registered"`, `"status":"in_transit"`, `"status":"arrived"`,
		`"status":"ready"`, `"status":"collected"`, `"recipient_name":"张*"`, `"phone":"138****5678"`} {
		if !strings.Contains(o, want) {
			t.Errorf("walk output lacks %s:\n%s", want, o)
		}
	}
}
