package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestChipShow(t *testing.T) {
	code, out, errOut := runCmd(t, "chip", "show", "loihi", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Name  string `json:"Name"`
		Cores int    `json:"cores"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if got.Name != "loihi" || got.Cores != 128 {
		t.Errorf("got %+v, want loihi with 128 cores", got)
	}
	if code, _, errOut := runCmd(t, "chip", "show", "nochip"); code != 1 || !strings.Contains(errOut, `unknown preset "nochip"`) {
		t.Errorf("unknown preset: exit %d, %q", code, errOut)
	}
	if code, _, _ := runCmd(t, "chip", "frob"); code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", code)
	}
}

func TestBenchCUBAJSON(t *testing.T) {
	code, out, errOut := runCmd(t, "bench", "cuba", "--seconds", "0.2", "--json", "--workers", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for _, k := range []string{"rate_exc_hz", "rate_inh_hz", "cv_isi", "synaptic_events", "wall_s", "rtf", "events_per_s", "cycles", "energy_j"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if r := got["rate_exc_hz"].(float64); r < 2 || r > 12 {
		t.Errorf("excitatory rate %.2f Hz after 0.2 s, want a few Hz", r)
	}
	if code, _, _ := runCmd(t, "bench", "brunel"); code != 2 {
		t.Errorf("unknown network: exit %d, want 2", code)
	}
	if code, _, _ := runCmd(t, "bench", "cuba", "--seconds", "-1"); code != 2 {
		t.Errorf("negative seconds: exit %d, want 2", code)
	}
}
