package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tinyTrainTOML = `[task]
dataset = "randman"
classes = 3
units = 10
samples_per_class = 40
steps = 30
seed = 2

[network]
hidden = [16]

[train]
epochs = 2
batch = 16
seed = 1
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "train.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTrainAndEval(t *testing.T) {
	cfg := writeConfig(t, tinyTrainTOML)
	model := filepath.Join(t.TempDir(), "m.aem")
	out, stderr, code := runAerie(t, "train", "--config", cfg, "--out", model, "--epochs", "3", "--json")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("train --json: %v\n%s", err, out)
	}
	for _, k := range []string{"test_accuracy", "train_samples_per_s", "epochs", "mode"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("train --json lacks %q", k)
		}
	}
	if rep["epochs"].(float64) != 3 || rep["mode"] != "stochastic" {
		t.Errorf("epochs %v mode %v, want 3 stochastic", rep["epochs"], rep["mode"])
	}
	if !strings.Contains(stderr, "epoch 3:") {
		t.Errorf("no per-epoch progress lines on a non-terminal stderr:\n%s", stderr)
	}
	if _, err := os.Stat(model + ".ckpt"); err != nil {
		t.Errorf("no checkpoint: %v", err)
	}
	out, stderr, code = runAerie(t, "train", "eval", model, "--fano-trials", "20", "--json")
	if code != 0 {
		t.Fatalf("train eval: exit %d: %s", code, stderr)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("train eval --json: %v\n%s", err, out)
	}
	if ev["accuracy"] == nil || len(ev["fano"].([]any)) != 1 || len(ev["rates_hz"].([]any)) != 1 {
		t.Errorf("train eval --json: %s", out)
	}
}

func TestTrainInterruptAndResume(t *testing.T) {
	cfg := writeConfig(t, tinyTrainTOML)
	dir := t.TempDir()
	model := filepath.Join(dir, "m.aem")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C before the first batch
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"train", "--config", cfg, "--out", model}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "--resume") {
		t.Fatalf("interrupted train: exit %d, stderr %s", code, errb.String())
	}
	_, stderr, code := runAerie(t, "train", "--config", cfg, "--out", model, "--resume", model+".ckpt")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
}

func TestTrainBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		args func(t *testing.T) []string
		code int
		want string
	}{
		{"no config", func(*testing.T) []string { return []string{"train"} }, 2, "--config is required"},
		{"unknown key", func(t *testing.T) []string {
			return []string{"train", "--config", writeConfig(t, tinyTrainTOML+"lr = 3\n")}
		}, 1, `train.toml:16: unknown key "train.lr"`},
		{"missing mnist", func(t *testing.T) []string {
			return []string{"train", "--config", writeConfig(t, "[task]\ndataset = \"mnist\"\n"), "--data", t.TempDir()}
		}, 1, "mnist"},
		{"eval without model", func(*testing.T) []string { return []string{"train", "eval"} }, 2, "MODEL"},
		{"eval of a non-model", func(t *testing.T) []string {
			p := filepath.Join(t.TempDir(), "x.aem")
			os.WriteFile(p, []byte("not a model at all, just text"), 0o644)
			return []string{"train", "eval", p}
		}, 1, "corrupt model file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runAerie(t, c.args(t)...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, c.code, c.want)
			}
		})
	}
}

// TestEvalMatchesTrainReport: train eval on the stored config scores the
// model exactly as the training run's final test evaluation did (same noise
// seed and trial, the same prediction rule for either loss).
func TestEvalMatchesTrainReport(t *testing.T) {
	for _, loss := range []string{"max_over_time", "sum_over_time"} {
		cfg := writeConfig(t, tinyTrainTOML+"\n[loss]\nkind = \""+loss+"\"\n")
		model := filepath.Join(t.TempDir(), "m.aem")
		out, stderr, code := runAerie(t, "train", "--config", cfg, "--out", model, "--json")
		if code != 0 {
			t.Fatalf("%s: train: exit %d: %s", loss, code, stderr)
		}
		var rep struct {
			TestAccuracy float64 `json:"test_accuracy"`
		}
		json.Unmarshal([]byte(out), &rep)
		out, stderr, code = runAerie(t, "train", "eval", model, "--fano-trials", "0", "--json")
		if code != 0 {
			t.Fatalf("%s: eval: exit %d: %s", loss, code, stderr)
		}
		var ev struct {
			Accuracy float64 `json:"accuracy"`
		}
		json.Unmarshal([]byte(out), &ev)
		if ev.Accuracy != rep.TestAccuracy {
			t.Errorf("%s: eval accuracy %v, train report %v", loss, ev.Accuracy, rep.TestAccuracy)
		}
	}
}
