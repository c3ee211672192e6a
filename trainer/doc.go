// Package trainer trains stochastic (and deterministic) spiking networks
// offline with surrogate gradients whose surrogate derivative is the
// derivative of the neurons' escape-noise function (Gygax & Zenke,
// "Elucidating the theoretical underpinnings of surrogate gradient learning
// in spiking neural networks", Neural Computation 37(5), 2025).
//
// The full manual (model, gradients, training, file format) is in the
// sections below.
package trainer
