package aer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// PortKeys gives the routing keys of one port, the way sPyNNaker allocates
// them: channel c of the port has key Base | c, and a key k belongs to the
// port when k & Mask == Base. The channels are the bits outside Mask.
type PortKeys struct {
	Port uint16
	Base uint32
	Mask uint32
}

// KeyMap maps (port, channel) to 32-bit SpiNNaker keys and back.
type KeyMap struct {
	ports []PortKeys
}

// NewKeyMap checks that every Base lies inside its Mask and that no two
// ports can claim the same key.
func NewKeyMap(ports ...PortKeys) (*KeyMap, error) {
	for i, p := range ports {
		if p.Base&^p.Mask != 0 {
			return nil, fmt.Errorf("aer: port %d: base %#x has bits outside mask %#x", p.Port, p.Base, p.Mask)
		}
		for _, q := range ports[:i] {
			if q.Port == p.Port {
				return nil, fmt.Errorf("aer: port %d listed twice", p.Port)
			}
			if (p.Base^q.Base)&p.Mask&q.Mask == 0 {
				return nil, fmt.Errorf("aer: ports %d and %d share keys (%#x/%#x, %#x/%#x)", q.Port, p.Port, q.Base, q.Mask, p.Base, p.Mask)
			}
		}
	}
	return &KeyMap{ports: append([]PortKeys(nil), ports...)}, nil
}

// Key returns the key of channel on port; false if the port is unknown or
// the channel does not fit outside the mask.
func (m *KeyMap) Key(port uint16, channel uint32) (uint32, bool) {
	for _, p := range m.ports {
		if p.Port == port {
			if channel&p.Mask != 0 {
				return 0, false
			}
			return p.Base | channel, true
		}
	}
	return 0, false
}

// Lookup returns the port and channel of key.
func (m *KeyMap) Lookup(key uint32) (port uint16, channel uint32, ok bool) {
	for _, p := range m.ports {
		if key&p.Mask == p.Base {
			return p.Port, key &^ p.Mask, true
		}
	}
	return 0, 0, false
}

// ToKeys rewrites events in place from (Port, Channel) to keys (Channel =
// key, Port = 0) and returns how many could not be mapped (left unchanged).
func (m *KeyMap) ToKeys(evs []Event) (unmapped int) {
	for i := range evs {
		k, ok := m.Key(evs[i].Port, evs[i].Channel)
		if !ok {
			unmapped++
			continue
		}
		evs[i].Channel, evs[i].Port = k, 0
	}
	return unmapped
}

// FromKeys rewrites events in place from keys to (Port, Channel) and
// returns how many keys belong to no port (left unchanged).
func (m *KeyMap) FromKeys(evs []Event) (unmapped int) {
	for i := range evs {
		p, c, ok := m.Lookup(evs[i].Channel)
		if !ok {
			unmapped++
			continue
		}
		evs[i].Port, evs[i].Channel = p, c
	}
	return unmapped
}

// ParseKeyMap parses "PORT=BASE/MASK,..." (numbers in any Go integer
// syntax, e.g. "1=0x800/0xfffff800,2=0x1000/0xfffff800").
func ParseKeyMap(s string) (*KeyMap, error) {
	var ports []PortKeys
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, rest, ok1 := strings.Cut(item, "=")
		b, m, ok2 := strings.Cut(rest, "/")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("aer: key map entry %q: want PORT=BASE/MASK", item)
		}
		port, err1 := strconv.ParseUint(strings.TrimSpace(p), 0, 16)
		base, err2 := strconv.ParseUint(strings.TrimSpace(b), 0, 32)
		mask, err3 := strconv.ParseUint(strings.TrimSpace(m), 0, 32)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("aer: key map entry %q: %w", item, err)
		}
		ports = append(ports, PortKeys{Port: uint16(port), Base: uint32(base), Mask: uint32(mask)})
	}
	if len(ports) == 0 {
		return nil, errors.New("aer: empty key map")
	}
	return NewKeyMap(ports...)
}
