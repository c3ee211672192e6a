package aer

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// Native packet constants. The layout is drawn in doc.go; these numbers are
// frozen for version 1.
const (
	NativeMagic0        = 'A'  // first magic byte
	NativeMagic1        = 'E'  // second magic byte
	NativeVersion       = 1    // current (and only) version: 20-byte header, 8- or 12-byte events
	NativeHeaderLen     = 20   // bytes before the first event
	NativeMaxPacket     = 1472 // one UDP datagram on a 1500-byte MTU (IPv4, no options)
	NativeMaxEvents     = (NativeMaxPacket - NativeHeaderLen) / 8
	NativeMaxPayloadEvt = (NativeMaxPacket - NativeHeaderLen) / 12

	// NativeFlagPayload marks 12-byte events that carry Event.Payload.
	NativeFlagPayload = 1 << 0
	// NativeFlagMicroseconds marks times in µs; clear means emulator ticks.
	NativeFlagMicroseconds = 1 << 1
	nativeFlagsKnown       = NativeFlagPayload | NativeFlagMicroseconds
)

// NativeHeader is the decoded header of a native packet.
type NativeHeader struct {
	Version uint8
	Flags   uint8
	Port    uint16
	Count   uint16
	Seq     uint32
	Base    int64 // time of the packet; event i has Time = Base + dt_i
}

// EventSize is the size in bytes of one event under h.Flags.
func (h NativeHeader) EventSize() int {
	if h.Flags&NativeFlagPayload != 0 {
		return 12
	}
	return 8
}

// Unit is the time unit announced by the packet.
func (h NativeHeader) Unit() Unit {
	if h.Flags&NativeFlagMicroseconds != 0 {
		return Microsecond
	}
	return Tick
}

// DecodeNativeHeader decodes and checks the header of the native packet b,
// including that b holds exactly Count events.
func DecodeNativeHeader(b []byte) (NativeHeader, error) {
	var h NativeHeader
	if len(b) < NativeHeaderLen {
		return h, truncated("native", int64(len(b)), "header needs %d bytes, have %d", NativeHeaderLen, len(b))
	}
	if b[0] != NativeMagic0 || b[1] != NativeMagic1 {
		return h, corrupt("native", 0, "bad magic %#02x %#02x", b[0], b[1])
	}
	h.Version = b[2]
	if h.Version != NativeVersion {
		return h, corrupt("native", 2, "unsupported version %d", h.Version)
	}
	h.Flags = b[3]
	if h.Flags&^nativeFlagsKnown != 0 {
		return h, corrupt("native", 3, "unknown flags %#02x", h.Flags)
	}
	h.Port = binary.LittleEndian.Uint16(b[4:])
	h.Count = binary.LittleEndian.Uint16(b[6:])
	h.Seq = binary.LittleEndian.Uint32(b[8:])
	h.Base = int64(binary.LittleEndian.Uint64(b[12:]))
	want := NativeHeaderLen + int(h.Count)*h.EventSize()
	if want > NativeMaxPacket {
		return h, corrupt("native", 6, "count %d makes a %d-byte packet, limit %d", h.Count, want, NativeMaxPacket)
	}
	if len(b) < want {
		return h, truncated("native", int64(len(b)), "%d events need %d bytes, have %d", h.Count, want, len(b))
	}
	if len(b) > want {
		return h, corrupt("native", int64(want), "%d trailing bytes", len(b)-want)
	}
	return h, nil
}

// DecodeNative decodes the native packet b and appends its events to dst.
// It allocates only if dst lacks capacity (NativeMaxEvents is always
// enough).
func DecodeNative(b []byte, dst []Event) (NativeHeader, []Event, error) {
	h, err := DecodeNativeHeader(b)
	if err != nil {
		return h, dst, err
	}
	n := int(h.Count)
	dst = growEvents(dst, n)
	out := dst[len(dst) : len(dst)+n]
	body := b[NativeHeaderLen:]
	if h.Flags&NativeFlagPayload == 0 {
		decodeNative8(out, body, h.Base, h.Port)
	} else {
		decodeNative12(out, body, h.Base, h.Port)
	}
	return h, dst[:len(dst)+n], nil
}

// decodeNative8 decodes 8-byte events. The loops live in small functions so
// that their few variables stay in registers; the length test up front lets
// the compiler drop the bounds checks.
func decodeNative8(out []Event, body []byte, base int64, port uint16) {
	for i := range out {
		if len(body) < 8 {
			return
		}
		// One 64-bit load: dt in the low half, channel in the high half.
		v := binary.LittleEndian.Uint64(body)
		body = body[8:]
		out[i] = Event{Time: base + int64(uint32(v)), Channel: uint32(v >> 32), Port: port}
	}
}

func decodeNative12(out []Event, body []byte, base int64, port uint16) {
	for i := range out {
		if len(body) < 12 {
			return
		}
		v := binary.LittleEndian.Uint64(body)
		out[i] = Event{Time: base + int64(uint32(v)), Channel: uint32(v >> 32), Payload: binary.LittleEndian.Uint32(body[8:]), Port: port}
		body = body[12:]
	}
}

// growEvents makes sure dst has room for n more events.
func growEvents(dst []Event, n int) []Event {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	nd := make([]Event, len(dst), len(dst)+n)
	copy(nd, dst)
	return nd
}

// NativeFit reports how many leading events of evs fit in one native packet
// with the given flags: all on the same port as evs[0], at or after evs[0]'s
// time and less than 2³² units later, at most the per-datagram limit.
func NativeFit(flags uint8, evs []Event) int {
	if len(evs) == 0 {
		return 0
	}
	limit := NativeMaxEvents
	if flags&NativeFlagPayload != 0 {
		limit = NativeMaxPayloadEvt
	}
	if len(evs) < limit {
		limit = len(evs)
	}
	base, port := evs[0].Time, evs[0].Port
	for i := 1; i < limit; i++ {
		e := &evs[i]
		if e.Port != port || e.Time < base || e.Time-base > 0xFFFFFFFF {
			return i
		}
	}
	return limit
}

// AppendNative appends one native packet holding the first n events of evs,
// where n = NativeFit(flags, evs), and returns the extended slice and n. The
// port and base time are those of evs[0]; an empty evs gives an empty
// packet on port 0 with base 0 (a heartbeat that still advances seq).
func AppendNative(dst []byte, flags uint8, seq uint32, evs []Event) ([]byte, int) {
	flags &= nativeFlagsKnown
	size, limit := 8, NativeMaxEvents
	if flags&NativeFlagPayload != 0 {
		size, limit = 12, NativeMaxPayloadEvt
	}
	limit = min(limit, len(evs))
	var port uint16
	var base int64
	if limit > 0 {
		port, base = evs[0].Port, evs[0].Time
	}
	dst = growBytes(dst, NativeHeaderLen+limit*size)
	p := dst[len(dst) : len(dst)+NativeHeaderLen+limit*size]
	body := p[NativeHeaderLen:]
	// One pass: encode until an event does not fit (NativeFit's rules).
	n := 0
	if size == 8 {
		body = body[:limit*8]
		for i, e := range evs[:limit] {
			dt := e.Time - base
			if e.Port != port || uint64(dt) > 0xFFFFFFFF {
				break
			}
			binary.LittleEndian.PutUint64(body[i*8:], uint64(dt)|uint64(e.Channel)<<32)
			n++
		}
	} else {
		body = body[:limit*12]
		for i, e := range evs[:limit] {
			dt := e.Time - base
			if e.Port != port || uint64(dt) > 0xFFFFFFFF {
				break
			}
			o := body[i*12 : i*12+12]
			binary.LittleEndian.PutUint64(o, uint64(dt)|uint64(e.Channel)<<32)
			binary.LittleEndian.PutUint32(o[8:], e.Payload)
			n++
		}
	}
	p[0], p[1], p[2], p[3] = NativeMagic0, NativeMagic1, NativeVersion, flags
	binary.LittleEndian.PutUint16(p[4:], port)
	binary.LittleEndian.PutUint16(p[6:], uint16(n))
	binary.LittleEndian.PutUint32(p[8:], seq)
	binary.LittleEndian.PutUint64(p[12:], uint64(base))
	return dst[:len(dst)+NativeHeaderLen+n*size], n
}

// growBytes makes sure dst has room for n more bytes.
func growBytes(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	nd := make([]byte, len(dst), 2*cap(dst)+n)
	copy(nd, dst)
	return nd
}

// mixedTies reports whether evs has neighbours with the same Time on
// different ports: the case where groupTies saves native packets.
func mixedTies(evs []Event) bool {
	for i := 1; i < len(evs); i++ {
		if evs[i].Time == evs[i-1].Time && evs[i].Port != evs[i-1].Port {
			return true
		}
	}
	return false
}

// groupTies sorts, in place, each run of events with equal Time by port,
// keeping the order within a port. Time order is unchanged; events of one
// tick on several ports (the emulator's usual output) then share one
// native packet per port instead of one packet per port change.
func groupTies(evs []Event) {
	for start := 0; start < len(evs); {
		end := start + 1
		mixed := false
		for end < len(evs) && evs[end].Time == evs[start].Time {
			mixed = mixed || evs[end].Port != evs[start].Port
			end++
		}
		if mixed {
			slices.SortStableFunc(evs[start:end], func(a, b Event) int { return cmp.Compare(a.Port, b.Port) })
		}
		start = end
	}
}
