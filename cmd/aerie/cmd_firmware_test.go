package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func jsonOf(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	return m
}

func hasKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s JSON lacks %q", what, k)
		}
	}
}

// TestCompileInspectEmulateRelay is the user's path: write a network, compile
// it, inspect the image, emulate it over an event file. The relay answers
// every input event with one output event on the same channel, a tick later.
func TestCompileInspectEmulateRelay(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "relay.img")
	out, stderr, code := runAerie(t, "compile", "../../examples/networks/relay.toml", "-o", img, "--json")
	if code != 0 {
		t.Fatalf("compile: exit %d: %s", code, stderr)
	}
	c := jsonOf(t, out)
	hasKeys(t, "compile", c, "format", "version", "chip", "fingerprint", "cores_used", "neurons", "synapses", "populations", "ports", "sections", "provenance")
	if c["format"] != "image" || c["neurons"].(float64) != 64 || c["synapses"].(float64) != 64 {
		t.Errorf("compile report %v", c)
	}

	out, stderr, code = runAerie(t, "inspect", img, "--json")
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	in := jsonOf(t, out)
	hasKeys(t, "inspect", in, "format", "version", "chip", "fingerprint", "cores_used", "neurons", "synapses", "populations", "ports", "sections", "provenance")
	if in["chip"] != "default" || in["fingerprint"] != c["fingerprint"] {
		t.Errorf("inspect chip %v fingerprint %v, compile said %v", in["chip"], in["fingerprint"], c["fingerprint"])
	}
	pops := in["populations"].([]any)
	if len(pops) != 1 || pops[0].(map[string]any)["name"] != "relay" {
		t.Errorf("populations %v", pops)
	}
	if text, _, code := runAerie(t, "inspect", img); code != 0 || !strings.Contains(text, "input port  in") || !strings.Contains(text, "output port out") {
		t.Errorf("inspect text (exit %d):\n%s", code, text)
	}

	// input: channel c at tick 10+c for 64 channels, plus three at once
	events := filepath.Join(dir, "in.csv")
	var b strings.Builder
	b.WriteString("tick,port,channel,payload\n")
	for ch := 0; ch < 64; ch++ {
		fmt.Fprintf(&b, "%d,0,%d,0\n", 10+ch, ch)
	}
	b.WriteString("100,0,5,0\n100,0,6,0\n100,0,7,0\n101,0,5,0\n")
	if err := os.WriteFile(events, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	outEvents := filepath.Join(dir, "out.csv")
	out, stderr, code = runAerie(t, "emulate", "--image", img, "--in", events, "--out", outEvents, "--json")
	if code != 0 {
		t.Fatalf("emulate: exit %d: %s", code, stderr)
	}
	e := jsonOf(t, out)
	hasKeys(t, "emulate", e, "ticks", "wall_s", "rtf", "cycles", "energy_j", "output_events", "populations")
	if e["output_events"].(float64) != 68 || e["input_events"].(float64) != 68 {
		t.Errorf("emulate: %v events in, %v out; want 68 and 68", e["input_events"], e["output_events"])
	}
	got, err := os.ReadFile(outEvents)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	if len(lines) != 69 {
		t.Fatalf("%d output lines, want a header and 68 events:\n%s", len(lines), got)
	}
	for ch := 0; ch < 64; ch++ {
		if want := fmt.Sprintf("%d,0,%d,0", 11+ch, ch); lines[1+ch] != want {
			t.Fatalf("output event %d = %q, want %q (one tick after its input)", ch, lines[1+ch], want)
		}
	}
	if tail := strings.Join(lines[65:], " "); tail != "101,0,5,0 101,0,6,0 101,0,7,0 102,0,5,0" {
		t.Errorf("last output events %q", tail)
	}

	// the spike record names populations and neurons
	spikes := filepath.Join(dir, "spikes.aer")
	if _, stderr, code := runAerie(t, "emulate", "--image", img, "--in", events, "--spikes", spikes, "--ticks", "50"); code != 0 {
		t.Fatalf("emulate --spikes: exit %d: %s", code, stderr)
	}
	s := inspectJSON(t, spikes)
	if s["events"].(float64) != 39 { // inputs at ticks 10…48 answer at 11…49
		t.Errorf("spike record has %v events, want 39", s["events"])
	}
}

// TestEmulateCUBAImage: the CUBA image runs from the command line with the
// statistics of aerie bench cuba.
func TestEmulateCUBAImage(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "cuba.img")
	if _, stderr, code := runAerie(t, "compile", "../../examples/networks/cuba.toml", "-o", img); code != 0 {
		t.Fatalf("compile: exit %d: %s", code, stderr)
	}
	out, stderr, code := runAerie(t, "emulate", "--image", img, "--ticks", "5000", "--warmup", "1000", "--json")
	if code != 0 {
		t.Fatalf("emulate: exit %d: %s", code, stderr)
	}
	e := jsonOf(t, out)
	pops := e["populations"].([]any)
	if len(pops) != 2 {
		t.Fatalf("populations %v", pops)
	}
	for _, p := range pops {
		p := p.(map[string]any)
		hasKeys(t, "population", p, "name", "neurons", "spikes", "rate_hz", "cv_isi")
		if r := p["rate_hz"].(float64); r < 3 || r > 9 {
			t.Errorf("%s rate %.2f Hz over 0.1–0.5 s, want ≈ 5.5", p["name"], r)
		}
	}
	if e["rtf"] == nil || e["ticks"].(float64) != 5000 || e["cycles"].(float64) == 0 {
		t.Errorf("rtf %v, ticks %v, cycles %v", e["rtf"], e["ticks"], e["cycles"])
	}
}

// TestFirmwareBadInput: each bad input gets a clear error before any work,
// and nothing is overwritten.
func TestFirmwareBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	relay := "../../examples/networks/relay.toml"
	img := filepath.Join(dir, "relay.img")
	if _, stderr, code := runAerie(t, "compile", relay, "-o", img); code != 0 {
		t.Fatalf("compile: %s", stderr)
	}
	good, _ := os.ReadFile(img)
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0x10
	corrupt := write("corrupt.img", string(flipped))
	truncated := write("trunc.img", string(good[:len(good)/3]))
	typo := write("typo.toml", "name = \"x\"\n[[population]]\nname = \"a\"\nsize = 3\nTau_m = 10.0\n")
	missing := write("missing.toml", "name = \"x\"\n[[population]]\nname = \"a\"\nsize = 3\n\n[[projection]]\npre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = 1.0\n")
	tooBig := write("big.toml", "name = \"x\"\n[[population]]\nname = \"a\"\nsize = 20000\n")
	keep := write("keep.img", "do not overwrite")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown key", []string{"compile", typo, "-o", keep}, 1, `typo.toml:5: unknown key "population.Tau_m" (did you mean "tau_m"?`},
		{"missing population", []string{"compile", missing, "-o", keep}, 1, `missing.toml:8: projection 0 (a → b): post = "b" is not a population`},
		{"does not fit", []string{"compile", tooBig, "-o", keep}, 1, `population "a" does not fit default`},
		{"output is the input", []string{"compile", typo, "-o", typo}, 1, "is the input"},
		{"no -o", []string{"compile", relay}, 2, "-o net.img is required"},
		{"corrupt image", []string{"emulate", "--image", corrupt}, 1, "corrupt.img"},
		{"truncated image", []string{"inspect", truncated}, 1, "trunc.img"},
		{"image for another chip", []string{"emulate", "--image", img, "--chip", "loihi"}, 1, "fingerprint"},
		{"not an image", []string{"emulate", "--image", typo}, 1, "typo.toml"},
		{"emulate output is the image", []string{"emulate", "--image", img, "--out", img}, 1, "is the input"},
		{"bad ticks", []string{"emulate", "--image", img, "--ticks", "-3"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runAerie(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
			if b, _ := os.ReadFile(keep); string(b) != "do not overwrite" {
				t.Errorf("keep.img was overwritten")
			}
			if b, _ := os.ReadFile(img); string(b) != string(good) {
				t.Errorf("the image was overwritten")
			}
		})
	}
}
