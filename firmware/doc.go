// Package firmware will hold the deployable network description (populations,
// projections, ports, integer parameters), its compiler to chip.Program
// (placement, synapse packing, routing tables) and the binary configuration
// image format. Until then, chip.Program is built directly in Go (see
// chip.CUBA for an example) and validated by chip.System.Load.
package firmware
