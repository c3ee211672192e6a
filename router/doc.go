// Package router will hold aerie's networks-on-chip and chip-to-chip links:
// topologies (2-D mesh, torus, SpiNNaker's triangular torus), routing
// (dimension order, key/mask multicast tables with default routes), and timing
// (an analytic model and a flit-level queueing model), with per-link
// statistics, congestion and counted drops.
//
// The seam is chip.Interconnect: the chip engine hands each tick's spike
// messages to an Interconnect, which returns when (in cycles) they arrive and
// what that cost, and never changes which tick a spike lands in unless the
// chip description enables a failure mode (a drop, a late packet), which is
// then counted. Until this package fills it, chip.Ideal is the only
// interconnect: zero latency, unlimited bandwidth.
package router
