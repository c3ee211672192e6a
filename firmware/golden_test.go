package firmware

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/examples/networks"
)

var update = flag.Bool("update", false, "rewrite the golden spike traces in testdata/golden")

// TestGoldenTraces runs three small networks — a chain with growing delays,
// the relay with input events, a recurrent pair with delays and a Poisson
// drive — and compares their spike traces, tick by tick, with the readable
// files in testdata/golden/*.trace. Regenerate with
//
//	go test -run GoldenTraces ./firmware -update
//
// and review the diff: a change is a change of what the chip computes.
func TestGoldenTraces(t *testing.T) {
	relay, err := networks.Source("relay")
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name  string
		src   string
		dir   string
		ticks uint64
		input map[uint64][]chip.PortEvent
	}{
		{"chain", read("chain.toml"), filepath.Join("testdata", "golden"), 60, nil},
		{"relay", relay, "", 12, map[uint64][]chip.PortEvent{
			2: {{Channel: 0}, {Channel: 63}}, 3: {{Channel: 0}}, 4: {{Channel: 7}, {Channel: 8}, {Channel: 9}}, 9: {{Channel: 0}},
		}},
		{"pair", read("pair.toml"), "", 300, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := chip.Default()
			net, _, err := ParseNetworkWith(tt.name+".toml", tt.src, cfg, ParseOptions{Dir: tt.dir})
			if err != nil {
				t.Fatal(err)
			}
			prog, pl, err := Compile(net, cfg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := chip.Load(cfg, prog, chip.Options{Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			rec, _ := s.RecordSpikes(nil)
			if tt.input != nil {
				s.SetInput(eventsAt(tt.input))
			}
			out := &outRec{}
			s.SetOutput(out)
			if err := s.Run(context.Background(), tt.ticks); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "# %s on %s, %d ticks: one line per tick with spikes, population[neuron] in order\n", tt.name, cfg.Name, tt.ticks)
			if tt.input != nil {
				ticks := make([]uint64, 0, len(tt.input))
				for k := range tt.input {
					ticks = append(ticks, k)
				}
				slices.Sort(ticks)
				for _, k := range ticks {
					var chs []string
					for _, e := range tt.input[k] {
						chs = append(chs, fmt.Sprintf("%d/%d", e.Port, e.Channel))
					}
					fmt.Fprintf(&b, "# input at tick %d: port/channel %s\n", k, strings.Join(chs, " "))
				}
			}
			byTick := map[uint64][]string{}
			var ticks []uint64
			for _, sp := range rec.Spikes {
				p, i, ok := pl.Owner(chip.NeuronRef{Core: sp.Core, Neuron: sp.Neuron})
				if !ok {
					t.Fatalf("spike of an unplaced neuron %+v", sp)
				}
				if _, seen := byTick[sp.Tick]; !seen {
					ticks = append(ticks, sp.Tick)
				}
				byTick[sp.Tick] = append(byTick[sp.Tick], fmt.Sprintf("%s[%d]", net.Populations[p].Name, i))
			}
			for _, k := range ticks {
				fmt.Fprintf(&b, "%5d  %s\n", k, strings.Join(byTick[k], " "))
			}
			fmt.Fprintf(&b, "# output port events (tick:port/channel): %s\n", strings.Join(out.got, " "))
			got := b.String()
			path := filepath.Join("testdata", "golden", tt.name+".trace")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("trace differs from %s (rerun with -update and review the diff):\ngot:\n%s", path, got)
			}
		})
	}
}
