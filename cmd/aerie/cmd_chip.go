package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/aerie-neuro/aerie/chip"
)

func init() {
	register(command{name: "chip", summary: "show chip descriptions: aerie chip show NAME|FILE [--json], aerie chip list [--json]", run: runChip})
}

func runChip(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chip", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object: the presets (list) or the resolved description (show)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie chip list [--json]\n       aerie chip show NAME|FILE [--json]\n\nPresets: "+strings.Join(chip.Presets(), ", "))
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usagef("chip: want a subcommand: list or show")
	}
	switch pos[0] {
	case "list":
		if len(pos) != 1 {
			return usagef("chip list: unexpected argument %q (chip list takes none; chip show NAME shows one)", pos[1])
		}
		type preset struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Cores       int    `json:"cores"`
			Fingerprint string `json:"fingerprint"`
		}
		var list []preset
		for _, name := range chip.Presets() {
			c, err := chip.Preset(name)
			if err != nil {
				return err
			}
			list = append(list, preset{name, c.Description, c.Cores(), fmt.Sprintf("%016x", c.Fingerprint())})
		}
		if *asJSON {
			return writeJSON(stdout, struct {
				Presets []preset `json:"presets"`
			}{list})
		}
		for _, p := range list {
			fmt.Fprintf(stdout, "%-10s %s\n", p.Name, p.Description)
		}
		return nil
	case "show":
		if len(pos) != 2 {
			return usagef("chip show: want one preset name or TOML file, got %d arguments", len(pos)-1)
		}
		c, err := chip.LoadConfig(pos[1])
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, struct {
				*chip.Config
				Cores       int    `json:"cores"`
				Synapses    int    `json:"synapses_per_core"`
				Fingerprint string `json:"fingerprint"`
			}{c, c.Cores(), c.MaxSynapses(), fmt.Sprintf("%016x", c.Fingerprint())})
		}
		fmt.Fprintf(stdout, "# %s — %s\n# %d cores (%d chip(s) of %d×%d), %d neurons and %d synapses per core, fingerprint %016x\n",
			c.Name, c.Description, c.Cores(), c.Chips, c.Mesh.Width, c.Mesh.Height, c.Core.Neurons, c.MaxSynapses(), c.Fingerprint())
		_, err = io.WriteString(stdout, c.TOML())
		return err
	}
	return usagef("chip: unknown subcommand %q (want list or show)", pos[0])
}
