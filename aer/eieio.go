package aer

import (
	"encoding/binary"
	"fmt"
)

// EIEIOType is the element type of a SpiNNaker EIEIO data packet (header
// bits 11..10).
type EIEIOType uint8

// EIEIO element types.
const (
	EIEIOKey16          EIEIOType = 0 // 16-bit keys
	EIEIOKey16Payload16 EIEIOType = 1 // 16-bit key + 16-bit payload
	EIEIOKey32          EIEIOType = 2 // 32-bit keys
	EIEIOKey32Payload32 EIEIOType = 3 // 32-bit key + 32-bit payload
)

// EIEIO limits and well-known values, from SpiNNFrontEndCommon and SpiNNMan.
const (
	// EIEIOMaxPacket is the SDP data limit: a packet built for injection
	// (header plus elements) must not exceed it. Received packets are
	// bounded by the 8-bit count instead (the live packet gatherer puts
	// up to 256 bytes of elements after its header).
	EIEIOMaxPacket = 256
	// EIEIOMaxDecode is the largest packet a count of 255 can describe:
	// an 8-byte header and 255 key+payload pairs of 8 bytes.
	EIEIOMaxDecode = 8 + 255*8

	EIEIOCommandDatabase    = 1  // database ready / acknowledged (notification protocol)
	EIEIOCommandStopPause   = 10 // STOP_PAUSE_NOTIFICATION
	EIEIOCommandStartResume = 11 // START_RESUME_NOTIFICATION

	SpiNNakerSCPPort          = 17893 // SCP/SDP port of a board's Ethernet chip
	SpiNNakerNotificationPort = 19999 // notification protocol (database, start, stop)
)

// Size in bytes of one element.
func (t EIEIOType) Size() int { return [4]int{2, 4, 4, 8}[t&3] }

// KeyBytes is the width of a key (and of a payload prefix): 2 or 4.
func (t EIEIOType) KeyBytes() int { return [4]int{2, 2, 4, 4}[t&3] }

// HasPayload reports whether each element carries a payload.
func (t EIEIOType) HasPayload() bool { return t&1 != 0 }

// EIEIOHeader is the header of an EIEIO data packet.
//
//	bit 15 P  key prefix follows          bit 14 F  prefix to upper half
//	bit 13 D  payload prefix follows      bit 12 T  payloads are timestamps
//	bits 11..10 type   bits 9..8 tag      bits 7..0 count
type EIEIOHeader struct {
	Type             EIEIOType
	Tag              uint8 // 2 bits; the firmware treats it as padding (0)
	Count            uint8
	HasPrefix        bool   // P
	PrefixUpper      bool   // F
	Timestamp        bool   // T
	HasPayloadPrefix bool   // D
	Prefix           uint16 // key prefix, if HasPrefix
	PayloadPrefix    uint32 // payload prefix (16 bits for 16-bit types), if HasPayloadPrefix
}

// Len is the header's length in bytes: 2, 4, 6 or 8.
func (h EIEIOHeader) Len() int {
	n := 2
	if h.HasPrefix {
		n += 2
	}
	if h.HasPayloadPrefix {
		n += h.Type.KeyBytes()
	}
	return n
}

// MaxEvents is how many elements fit in an EIEIOMaxPacket-byte packet with
// this header: 127 16-bit keys, 63 32-bit keys, 31 32-bit key+payload pairs
// without prefixes, as in SpiNNMan.
func (h EIEIOHeader) MaxEvents() int {
	n := (EIEIOMaxPacket - h.Len()) / h.Type.Size()
	if n > 255 {
		n = 255
	}
	return n
}

// IsEIEIOCommand reports whether the datagram b is an EIEIO command packet
// (header bits 15..14 = 01).
func IsEIEIOCommand(b []byte) bool { return len(b) >= 2 && b[1]&0xC0 == 0x40 }

// DecodeEIEIOHeader decodes the header of the EIEIO data packet b and checks
// that b holds exactly Count elements.
func DecodeEIEIOHeader(b []byte) (EIEIOHeader, error) {
	var h EIEIOHeader
	if len(b) < 2 {
		return h, truncated("eieio", int64(len(b)), "header needs 2 bytes, have %d", len(b))
	}
	if b[1]&0xC0 == 0x40 {
		return h, corrupt("eieio", 1, "command packet where data was expected (id %d)", binary.LittleEndian.Uint16(b)&0x3FFF)
	}
	h.Count = b[0]
	f := b[1]
	h.HasPrefix = f&0x80 != 0
	h.PrefixUpper = f&0x40 != 0
	h.HasPayloadPrefix = f&0x20 != 0
	h.Timestamp = f&0x10 != 0
	h.Type = EIEIOType(f >> 2 & 3)
	h.Tag = f & 3
	off := 2
	if h.HasPrefix {
		if len(b) < off+2 {
			return h, truncated("eieio", int64(len(b)), "key prefix needs 2 bytes")
		}
		h.Prefix = binary.LittleEndian.Uint16(b[off:])
		off += 2
	}
	if h.HasPayloadPrefix {
		kb := h.Type.KeyBytes()
		if len(b) < off+kb {
			return h, truncated("eieio", int64(len(b)), "payload prefix needs %d bytes", kb)
		}
		if kb == 2 {
			h.PayloadPrefix = uint32(binary.LittleEndian.Uint16(b[off:]))
		} else {
			h.PayloadPrefix = binary.LittleEndian.Uint32(b[off:])
		}
		off += kb
	}
	want := off + int(h.Count)*h.Type.Size()
	if len(b) < want {
		return h, truncated("eieio", int64(len(b)), "%d elements need %d bytes, have %d", h.Count, want, len(b))
	}
	if len(b) > want {
		// SpiNNMan ignores trailing bytes; we report them so that a
		// receiver counts the packet as malformed instead of guessing.
		return h, corrupt("eieio", int64(want), "%d trailing bytes", len(b)-want)
	}
	return h, nil
}

// AppendEIEIOHeader appends the encoded header h.
func AppendEIEIOHeader(dst []byte, h EIEIOHeader) []byte {
	f := byte(h.Type&3)<<2 | h.Tag&3
	if h.HasPrefix {
		f |= 0x80
	}
	if h.PrefixUpper {
		f |= 0x40
	}
	if h.HasPayloadPrefix {
		f |= 0x20
	}
	if h.Timestamp {
		f |= 0x10
	}
	dst = append(dst, h.Count, f)
	if h.HasPrefix {
		dst = binary.LittleEndian.AppendUint16(dst, h.Prefix)
	}
	if h.HasPayloadPrefix {
		if h.Type.KeyBytes() == 2 {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(h.PayloadPrefix))
		} else {
			dst = binary.LittleEndian.AppendUint32(dst, h.PayloadPrefix)
		}
	}
	return dst
}

// DecodeEIEIO decodes the EIEIO data packet b and appends its events to dst,
// following the firmware (reverse_iptag_multicast_source.c), which is the
// authority where it and SpiNNMan disagree:
//
//   - Channel is the full key. 32-bit keys are ORed with the prefix
//     (prefix<<16 if F). 16-bit keys with a prefix become prefix<<16|key if
//     F, else key<<16|prefix (SpiNNMan just ORs in the F=0 case). 16-bit
//     keys without a prefix are left as they are: the vertex's configured
//     prefix, unknown here, applies on the board.
//   - Without T, Payload is the element payload ORed with the payload
//     prefix (D), or the prefix alone for key-only types.
//   - With T, Time is the payload prefix ORed with the element payload, in
//     simulation timesteps, and Payload is 0: the firmware sends such
//     events without payload.
//
// Port is 0: map keys to ports with a KeyMap.
func DecodeEIEIO(b []byte, dst []Event) (EIEIOHeader, []Event, error) {
	h, err := DecodeEIEIOHeader(b)
	if err != nil {
		return h, dst, err
	}
	n := int(h.Count)
	dst = growEvents(dst, n)
	out := dst[len(dst) : len(dst)+n]
	body := b[h.Len():]
	var pp uint32
	if h.HasPayloadPrefix {
		pp = h.PayloadPrefix
	}
	var kor uint32 // ORed into 32-bit keys
	if h.HasPrefix {
		kor = uint32(h.Prefix)
		if h.PrefixUpper {
			kor <<= 16
		}
	}
	switch h.Type {
	case EIEIOKey32:
		var t int64
		var p uint32
		if h.Timestamp {
			t = int64(pp)
		} else {
			p = pp
		}
		decodeKeys32(out, body, kor, t, p)
	case EIEIOKey32Payload32:
		body = body[:n*8]
		for i := range out {
			e := body[i*8 : i*8+8]
			k, p := binary.LittleEndian.Uint32(e)|kor, binary.LittleEndian.Uint32(e[4:])|pp
			if h.Timestamp {
				out[i] = Event{Time: int64(p), Channel: k}
			} else {
				out[i] = Event{Channel: k, Payload: p}
			}
		}
	default: // 16-bit keys
		size := h.Type.Size()
		body = body[:n*size]
		for i := range out {
			e := body[i*size:]
			k := uint32(binary.LittleEndian.Uint16(e))
			if h.HasPrefix {
				if h.PrefixUpper {
					k |= uint32(h.Prefix) << 16
				} else {
					k = k<<16 | uint32(h.Prefix)
				}
			}
			p := pp
			if size == 4 {
				p |= uint32(binary.LittleEndian.Uint16(e[2:]))
			}
			if h.Timestamp {
				out[i] = Event{Time: int64(p), Channel: k}
			} else {
				out[i] = Event{Channel: k, Payload: p}
			}
		}
	}
	return h, dst[:len(dst)+n], nil
}

// decodeKeys32 decodes 32-bit keys; like decodeNative8 it is a small
// function so that the loop runs in registers without bounds checks.
func decodeKeys32(out []Event, body []byte, kor uint32, t int64, p uint32) {
	for i := range out {
		if len(body) < 4 {
			return
		}
		out[i] = Event{Time: t, Channel: binary.LittleEndian.Uint32(body) | kor, Payload: p}
		body = body[4:]
	}
}

// AppendEIEIO appends one EIEIO data packet with header h (whose Count is
// ignored) holding the first n = min(len(evs), h.MaxEvents()) events, and
// returns the extended slice and n. Keys are written so that DecodeEIEIO
// gives back the same Channel when the key agrees with the prefix: the low
// 16 bits (16-bit keys, F=1), the high 16 bits (16-bit keys, F=0) or the
// key without the prefix's bits (32-bit keys), as SpiNNMan does; payloads
// likewise leave the payload prefix's bits to the prefix. For payload types the element payload is
// Event.Payload, or Event.Time if h.Timestamp.
func AppendEIEIO(dst []byte, h EIEIOHeader, evs []Event) ([]byte, int) {
	n := len(evs)
	if m := h.MaxEvents(); n > m {
		n = m
	}
	h.Count = uint8(n)
	dst = AppendEIEIOHeader(dst, h)
	var pmask uint32 = 0xFFFFFFFF // likewise for the payload prefix
	if h.HasPayloadPrefix {
		pmask = ^h.PayloadPrefix
	}
	var kmask uint32 = 0xFFFFFFFF // prefix bits are left to the prefix
	if h.HasPrefix {
		if h.PrefixUpper {
			kmask = ^(uint32(h.Prefix) << 16)
		} else {
			kmask = ^uint32(h.Prefix)
		}
	}
	switch h.Type {
	case EIEIOKey32:
		for i := range evs[:n] {
			dst = binary.LittleEndian.AppendUint32(dst, evs[i].Channel&kmask)
		}
	case EIEIOKey32Payload32:
		for i := range evs[:n] {
			p := evs[i].Payload
			if h.Timestamp {
				p = uint32(evs[i].Time)
			}
			dst = binary.LittleEndian.AppendUint32(dst, evs[i].Channel&kmask)
			dst = binary.LittleEndian.AppendUint32(dst, p&pmask)
		}
	default:
		for i := range evs[:n] {
			k := evs[i].Channel
			if h.HasPrefix && !h.PrefixUpper {
				k >>= 16
			}
			dst = binary.LittleEndian.AppendUint16(dst, uint16(k))
			if h.Type == EIEIOKey16Payload16 {
				p := evs[i].Payload
				if h.Timestamp {
					p = uint32(evs[i].Time)
				}
				dst = binary.LittleEndian.AppendUint16(dst, uint16(p&pmask))
			}
		}
	}
	return dst, n
}

// EIEIOCommand is an EIEIO command packet: a 16-bit LE header 0x4000|ID
// followed by command-specific bytes (for DATABASE, the UTF-8 path of the
// database; empty in the acknowledgement).
type EIEIOCommand struct {
	ID   uint16 // 14 bits
	Data []byte // aliases the decoded packet
}

// DecodeEIEIOCommand decodes the command packet b. Data aliases b.
func DecodeEIEIOCommand(b []byte) (EIEIOCommand, error) {
	if len(b) < 2 {
		return EIEIOCommand{}, truncated("eieio", int64(len(b)), "command needs 2 bytes, have %d", len(b))
	}
	if !IsEIEIOCommand(b) {
		return EIEIOCommand{}, corrupt("eieio", 1, "not a command (flags %#02x)", b[1])
	}
	if len(b) > EIEIOMaxDecode {
		return EIEIOCommand{}, corrupt("eieio", EIEIOMaxDecode, "command of %d bytes exceeds %d", len(b), EIEIOMaxDecode)
	}
	return EIEIOCommand{ID: binary.LittleEndian.Uint16(b) & 0x3FFF, Data: b[2:]}, nil
}

// AppendEIEIOCommand appends the command packet c.
func AppendEIEIOCommand(dst []byte, c EIEIOCommand) []byte {
	dst = binary.LittleEndian.AppendUint16(dst, 0x4000|c.ID&0x3FFF)
	return append(dst, c.Data...)
}

// SDPHeader is the 8-byte SpiNNaker Datagram Protocol header. On UDP to a
// board (port 17893) it is preceded by 2 zero pad bytes.
type SDPHeader struct {
	Flags    uint8 // 0x07: no reply expected
	Tag      uint8
	DestPort uint8 // 3 bits
	DestCPU  uint8 // 5 bits
	SrcPort  uint8
	SrcCPU   uint8
	DestY    uint8
	DestX    uint8
	SrcY     uint8
	SrcX     uint8
}

// SDPLen is the UDP payload overhead of SDP: 2 pad bytes and the header.
const SDPLen = 10

// InjectionSDP is the header sPyNNaker's live injection uses to reach the
// injector core at (x, y, cpu): flags 0x07, tag 0, SDP port 1.
func InjectionSDP(x, y, cpu uint8) SDPHeader {
	return SDPHeader{Flags: 0x07, DestPort: 1, DestCPU: cpu, DestX: x, DestY: y}
}

// AppendSDP appends the 2 pad bytes and the SDP header h, then payload.
func AppendSDP(dst []byte, h SDPHeader, payload []byte) []byte {
	dst = append(dst, 0, 0, h.Flags, h.Tag,
		h.DestPort<<5|h.DestCPU&0x1F, h.SrcPort<<5|h.SrcCPU&0x1F,
		h.DestY, h.DestX, h.SrcY, h.SrcX)
	return append(dst, payload...)
}

// DecodeSDP decodes a UDP payload carrying SDP (2 pad bytes, header, data).
// The returned payload aliases b.
func DecodeSDP(b []byte) (SDPHeader, []byte, error) {
	var h SDPHeader
	if len(b) < SDPLen {
		return h, nil, truncated("sdp", int64(len(b)), "header needs %d bytes, have %d", SDPLen, len(b))
	}
	if b[0] != 0 || b[1] != 0 {
		return h, nil, corrupt("sdp", 0, "pad bytes are %#02x %#02x, want 0", b[0], b[1])
	}
	if len(b) > SDPLen+EIEIOMaxDecode {
		return h, nil, corrupt("sdp", SDPLen+EIEIOMaxDecode, "packet of %d bytes too long", len(b))
	}
	h = SDPHeader{Flags: b[2], Tag: b[3], DestPort: b[4] >> 5, DestCPU: b[4] & 0x1F,
		SrcPort: b[5] >> 5, SrcCPU: b[5] & 0x1F, DestY: b[6], DestX: b[7], SrcY: b[8], SrcX: b[9]}
	return h, b[SDPLen:], nil
}

func (h EIEIOHeader) String() string {
	return fmt.Sprintf("eieio type %d count %d P%v F%v D%v T%v prefix %#x payload prefix %#x",
		h.Type, h.Count, b2i(h.HasPrefix), b2i(h.PrefixUpper), b2i(h.HasPayloadPrefix), b2i(h.Timestamp), h.Prefix, h.PayloadPrefix)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
