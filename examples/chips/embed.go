// Package chips embeds the example chip descriptions (chip TOML,
// docs/chip.md) that the example networks need: large (Brunel's model A)
// and pd14 (the Potjans–Diesmann 2014 microcircuit at full scale).
package chips

import (
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/aerie-neuro/aerie/chip"
)

// FS holds the example files, named <name>.toml.
//
//go:embed *.toml
var FS embed.FS

// Names lists the examples, sorted.
func Names() []string {
	ents, _ := FS.ReadDir(".")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".toml"))
	}
	sort.Strings(names)
	return names
}

// Config parses and validates an example chip description.
func Config(name string) (*chip.Config, error) {
	b, err := FS.ReadFile(name + ".toml")
	if err != nil {
		return nil, fmt.Errorf("chips: unknown example %q (examples: %s)", name, strings.Join(Names(), ", "))
	}
	return chip.ParseConfig(name+".toml", string(b))
}
