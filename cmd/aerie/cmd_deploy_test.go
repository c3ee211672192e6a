package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyStochasticTOML is tinyTrainTOML with stochastic neurons and one more
// epoch.
var tinyStochasticTOML = strings.Replace(strings.Replace(tinyTrainTOML, "[train]\nepochs = 2", "[train]\nepochs = 3", 1),
	"[train]", "[neuron]\nstochastic = true\n\n[train]", 1)

// TestDeployAndEvalOnChip: train, deploy, evaluate on the chip — float
// accuracy, chip accuracy, parity and energy side by side — for both kinds
// of network, and the image is checked to come from the model and the chip.
func TestDeployAndEvalOnChip(t *testing.T) {
	for _, tc := range []struct{ name, toml string }{{"deterministic", tinyTrainTOML}, {"stochastic", tinyStochasticTOML}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := writeConfig(t, tc.toml)
			model := filepath.Join(dir, "m.aem")
			if _, stderr, code := runAerie(t, "train", "--config", cfg, "--out", model); code != 0 {
				t.Fatalf("train: exit %d: %s", code, stderr)
			}
			img := filepath.Join(dir, "m.img")
			out, stderr, code := runAerie(t, "deploy", model, "-o", img, "--calibrate", "30", "--json")
			if code != 0 {
				t.Fatalf("deploy: exit %d: %s", code, stderr)
			}
			d := jsonOf(t, out)
			hasKeys(t, "deploy", d, "chip", "fingerprint", "weight_bits", "float_accuracy", "quantization", "provenance")
			if prov := d["provenance"].(map[string]any); prov["model_hash"] == nil || prov["calibration"] == nil {
				t.Errorf("provenance %v lacks the model hash or the calibration", prov)
			}
			out, stderr, code = runAerie(t, "train", "eval", model, "--chip", "default", "--image", img, "--trials", "2", "--json")
			if code != 0 {
				t.Fatalf("train eval --chip: exit %d: %s", code, stderr)
			}
			e := jsonOf(t, out)
			hasKeys(t, "train eval --chip", e, "float_accuracy", "chip_accuracy", "parity", "weight_bits", "synaptic_events_per_inference", "cycles_per_inference", "energy_per_inference_j")
			if e["parity"].(float64) != 1 {
				t.Errorf("parity %v, want 1 (%v)", e["parity"], e["first_mismatch"])
			}
			if c, f := e["chip_accuracy"].(float64), e["float_accuracy"].(float64); c < f-0.15 || e["energy_per_inference_j"].(float64) <= 0 {
				t.Errorf("chip accuracy %.3f against float %.3f, energy %v", c, f, e["energy_per_inference_j"])
			}

			// the image must come from this model and be run on its chip
			other := filepath.Join(dir, "other.aem")
			if _, stderr, code := runAerie(t, "train", "--config", cfg, "--out", other, "--seed", "9"); code != 0 {
				t.Fatalf("train: %s", stderr)
			}
			if _, stderr, code := runAerie(t, "train", "eval", other, "--chip", "default", "--image", img); code != 1 || !strings.Contains(stderr, "was not built from") {
				t.Errorf("image of another model: exit %d, %q", code, stderr)
			}
			if _, stderr, code := runAerie(t, "train", "eval", model, "--chip", "loihi", "--image", img); code != 1 || !strings.Contains(stderr, "fingerprint") {
				t.Errorf("image for another chip: exit %d, %q", code, stderr)
			}
		})
	}
}

func TestDeployBadInput(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.aem")
	if err := os.WriteFile(junk, []byte("AERIEMD\x1a\x01\x00\x00\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "keep.img")
	if err := os.WriteFile(keep, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"deploy", junk, "-o", keep}, 1, "junk.aem"},
		{[]string{"deploy", junk}, 2, "-o net.img is required"},
		{[]string{"deploy", junk, "-o", junk}, 1, "is the input"},
		{[]string{"deploy", junk, "-o", keep, "--weight-bits", "40"}, 2, "--weight-bits 40"},
	} {
		_, stderr, code := runAerie(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if b, _ := os.ReadFile(keep); string(b) != "keep" {
			t.Errorf("%v overwrote keep.img", tc.args)
		}
	}
}
