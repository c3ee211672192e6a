package live

import (
	"fmt"
	"math/bits"

	"github.com/aerie-neuro/aerie/aer"
	"github.com/aerie-neuro/aerie/chip"
)

// PortKeys is one port's place in the 32-bit key space of the keyed wire
// formats (EIEIO keys, jAER addresses, SPIF x/y): channel c of the port is
// key Base | c, and a key belongs to the port when key & Mask == Base.
type PortKeys struct {
	Port     int    `json:"port"`
	Name     string `json:"name"`
	Channels int    `json:"channels"`
	Base     uint32 `json:"-"`
	Mask     uint32 `json:"-"`
	BaseHex  string `json:"base_key"`
	MaskHex  string `json:"mask"`
}

// KeySpace is the key allocation of an image's ports, the way sPyNNaker
// allocates keys to populations (key = base | atom): with b =
// max(16, bits of the largest port's channel count), input port i has base
// i<<b and output port j has base 1<<31 | j<<b, both with mask ^(1<<b − 1).
// With the usual b = 16: input port i is i<<16 / 0xFFFF0000 and output
// port j is 0x80000000 | j<<16 / 0xFFFF0000, so a SPIF word's y is the
// port and x the channel, and a jAER address is the key.
type KeySpace struct {
	Bits    int        `json:"channel_bits"`
	Inputs  []PortKeys `json:"inputs"`
	Outputs []PortKeys `json:"outputs"`
	in, out *aer.KeyMap
	// inLen and outLen are the channel counts by port index.
	inLen, outLen []uint32
}

// AllocateKeys allocates keys to the ports of p.
func AllocateKeys(p *chip.Program) (*KeySpace, error) {
	widest := 1
	for _, in := range p.Inputs {
		widest = max(widest, len(in.Channels))
	}
	for _, out := range p.Outputs {
		widest = max(widest, len(out.Neurons))
	}
	b := max(16, bits.Len(uint(widest-1)))
	if b > 30 {
		return nil, fmt.Errorf("live: a port of %d channels does not fit 32-bit keys", widest)
	}
	maxPorts := 1 << (31 - b)
	if len(p.Inputs) > maxPorts || len(p.Outputs) > maxPorts {
		return nil, fmt.Errorf("live: %d input and %d output ports do not fit 32-bit keys with %d channel bits (at most %d each)",
			len(p.Inputs), len(p.Outputs), b, maxPorts)
	}
	mask := ^uint32(1<<b - 1)
	ks := &KeySpace{Bits: b, Inputs: []PortKeys{}, Outputs: []PortKeys{}}
	var in, out []aer.PortKeys
	for i, port := range p.Inputs {
		base := uint32(i) << b
		ks.Inputs = append(ks.Inputs, portKeys(i, port.Name, len(port.Channels), base, mask))
		in = append(in, aer.PortKeys{Port: uint16(i), Base: base, Mask: mask})
		ks.inLen = append(ks.inLen, uint32(len(port.Channels)))
	}
	for j, port := range p.Outputs {
		base := 1<<31 | uint32(j)<<b
		ks.Outputs = append(ks.Outputs, portKeys(j, port.Name, len(port.Neurons), base, mask))
		out = append(out, aer.PortKeys{Port: uint16(j), Base: base, Mask: mask})
		ks.outLen = append(ks.outLen, uint32(len(port.Neurons)))
	}
	var err error
	if len(in) > 0 {
		if ks.in, err = aer.NewKeyMap(in...); err != nil {
			return nil, fmt.Errorf("live: %w", err)
		}
	}
	if len(out) > 0 {
		if ks.out, err = aer.NewKeyMap(out...); err != nil {
			return nil, fmt.Errorf("live: %w", err)
		}
	}
	return ks, nil
}

func portKeys(i int, name string, n int, base, mask uint32) PortKeys {
	return PortKeys{Port: i, Name: name, Channels: n, Base: base, Mask: mask,
		BaseHex: fmt.Sprintf("0x%08x", base), MaskHex: fmt.Sprintf("0x%08x", mask)}
}

// InputOf returns the input port and channel of key, false if no port
// claims it or the channel is beyond the port's channels.
func (ks *KeySpace) InputOf(key uint32) (port uint16, channel uint32, ok bool) {
	if ks.in == nil {
		return 0, 0, false
	}
	port, channel, ok = ks.in.Lookup(key)
	if !ok || channel >= ks.inLen[port] {
		return 0, 0, false
	}
	return port, channel, true
}

// InputKey is the key of channel on input port.
func (ks *KeySpace) InputKey(port uint16, channel uint32) uint32 {
	return uint32(port)<<ks.Bits | channel
}

// OutputKey is the key of channel on output port.
func (ks *KeySpace) OutputKey(port uint16, channel uint32) uint32 {
	return 1<<31 | uint32(port)<<ks.Bits | channel
}

// OutputOf returns the output port and channel of key.
func (ks *KeySpace) OutputOf(key uint32) (port uint16, channel uint32, ok bool) {
	if ks.out == nil {
		return 0, 0, false
	}
	port, channel, ok = ks.out.Lookup(key)
	if !ok || channel >= ks.outLen[port] {
		return 0, 0, false
	}
	return port, channel, true
}

// validInput reports whether (port, channel) names an input channel.
func (ks *KeySpace) validInput(port uint16, channel uint32) bool {
	return int(port) < len(ks.inLen) && channel < ks.inLen[port]
}
