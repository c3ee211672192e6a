// Package networks embeds the example network descriptions (network TOML,
// docs/networks.md): CUBA (Brette et al. 2007), Brunel's model A in the
// asynchronous irregular and synchronous regular regimes, the
// Potjans–Diesmann 2014 cortical microcircuit at full scale (pd14; its chip
// is examples/chips/pd14.toml), and a relay that sends every input event
// straight back out.
package networks

import (
	"embed"
	"fmt"
	"sort"
	"strings"
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

// Source returns the TOML text of an example.
func Source(name string) (string, error) {
	b, err := FS.ReadFile(name + ".toml")
	if err != nil {
		return "", fmt.Errorf("networks: unknown example %q (examples: %s)", name, strings.Join(Names(), ", "))
	}
	return string(b), nil
}
