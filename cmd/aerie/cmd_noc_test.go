package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
	"github.com/aerie-neuro/aerie/internal/bench"
	"github.com/aerie-neuro/aerie/router"
)

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

func TestBenchNoC(t *testing.T) {
	dir := t.TempDir()
	curve := filepath.Join(dir, "curve.png")
	code, out, errOut := runCmd(t, "bench", "noc", "--mesh", "4", "--loads", "0.1,0.3,0.9", "--warmup", "200", "--cycles", "1000", "--json", "--plot", curve)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"saturation_flits_per_node_cycle", "bisection_bound_flits_per_node_cycle", "zero_load_latency_cycles", "points"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	pts, _ := got["points"].([]any)
	if len(pts) != 3 {
		t.Fatalf("%d points, want 3", len(pts))
	}
	for _, k := range []string{"offered", "accepted", "latency_mean", "latency_p99"} {
		if _, ok := pts[0].(map[string]any)[k]; !ok {
			t.Errorf("point lacks %q", k)
		}
	}
	if b, err := os.ReadFile(curve); err != nil || !bytes.HasPrefix(b, pngMagic) {
		t.Errorf("--plot wrote no PNG: %v", err)
	}
	// the text form, and the sweep's network through plot noc
	code, out, errOut = runCmd(t, "bench", "noc", "--mesh", "4", "--torus", "--pattern", "bitcomplement", "--loads", "0.2", "--cycles", "500")
	if code != 0 || !strings.Contains(out, "4×4 torus, bitcomplement traffic") || !strings.Contains(out, "saturation") {
		t.Errorf("text output: exit %d\n%s%s", code, out, errOut)
	}
	for _, args := range [][]string{
		{"bench", "noc"},
		{"bench", "noc", "--mesh", "4", "--pattern", "zigzag"},
		{"bench", "noc", "--mesh", "4", "--loads", "2"},
		{"bench", "noc", "--mesh", "4", "--model", "ideal"},
		{"plot", "noc"},
		{"plot", "curves", "x.json", "-o", "x.png"},
	} {
		if code, _, errOut := runCmd(t, args...); code != 2 && !(code == 1 && strings.Contains(errOut, "pattern")) {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errOut)
		}
	}
	// bench cuba still runs through the wrapped bench command
	if code, _, errOut := runCmd(t, "bench", "frob"); code != 2 {
		t.Errorf("bench frob: exit %d (%s), want 2", code, errOut)
	}
}

func TestPlotNoC(t *testing.T) {
	dir := t.TempDir()
	// a chip run's statistics through --noc-json
	cfg := chip.Default()
	cfg.NoC.Model = "detailed"
	st := runSmall(t, cfg)
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	write := NoCJSONFlag(fs)
	js := filepath.Join(dir, "run.json")
	if err := fs.Parse([]string{"--noc-json", js}); err != nil {
		t.Fatal(err)
	}
	if err := write(st); err != nil {
		t.Fatal(err)
	}
	var back router.Stats
	b, _ := os.ReadFile(js)
	if err := json.Unmarshal(b, &back); err != nil || back.Packets == 0 || len(back.Links) != 48 {
		t.Fatalf("--noc-json: %v, %d packets, %d links", err, back.Packets, len(back.Links))
	}
	if line := NoCSummary(st); !strings.Contains(line, "detailed mesh, xy routing") || NoCSummary(chip.Stats{}) != "" {
		t.Errorf("summary %q", line)
	}
	png := filepath.Join(dir, "noc.png")
	if code, _, errOut := runCmd(t, "plot", "noc", js, "-o", png); code != 0 {
		t.Fatalf("plot noc: exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, pngMagic) {
		t.Errorf("plot noc wrote no PNG: %v", err)
	}
	// an ideal run has no network statistics: a clear error
	ideal := filepath.Join(dir, "ideal.json")
	if err := writeNoCJSON(ideal, chip.Stats{}); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, "plot", "noc", ideal, "-o", png); code != 1 || !strings.Contains(errOut, "no network statistics") {
		t.Errorf("ideal run: exit %d: %s", code, errOut)
	}
}

// runSmall runs 300 ticks of CUBA on cfg and returns the statistics.
func runSmall(t *testing.T, cfg *chip.Config) chip.Stats {
	t.Helper()
	net, err := bench.CUBANetwork(1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	prog, _, err := firmware.Compile(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := chip.Load(cfg, prog, chip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), 300); err != nil {
		t.Fatal(err)
	}
	return s.Stats()
}
