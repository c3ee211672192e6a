package aer

import "encoding/binary"

// SPIF / AEStream event words (camera input to SpiNNaker through SPIF).
//
// Each event is a 32-bit word in host order (little-endian on every host
// aerie supports): bit 31 set means no timestamp follows; clear means the
// next word is a 32-bit timestamp (µs). x is bits 30..16, polarity bit 15,
// y bits 14..0. AEStream sends datagrams of at most 512 bytes to port 3333.
const (
	SPIFPort      = 3333 // spiffer's first input port
	SPIFMaxPacket = 512  // AEStream's datagram size
	spifNoTime    = 1 << 31
)

// SPIFWord packs x (15 bits), y (15 bits) and polarity into a SPIF word
// with bit 31 set (no timestamp).
func SPIFWord(x, y uint16, on bool) uint32 {
	w := uint32(x&0x7FFF)<<16 | uint32(y&0x7FFF) | spifNoTime
	if on {
		w |= 1 << 15
	}
	return w
}

// DecodeSPIF decodes a datagram of SPIF words and appends its events to dst:
// Channel = XY(x, y), Payload = polarity, Time = the timestamp word, or 0
// when the event has none. A timestamp word missing at the end is an error.
func DecodeSPIF(b []byte, dst []Event) ([]Event, error) {
	if len(b)%4 != 0 {
		return dst, truncated("spif", int64(len(b)&^3), "%d bytes are not whole 32-bit words", len(b))
	}
	dst = growEvents(dst, len(b)/4)
	for i := 0; i < len(b); i += 4 {
		w := binary.LittleEndian.Uint32(b[i:])
		e := Event{Channel: XY(uint16(w>>16&0x7FFF), uint16(w&0x7FFF)), Payload: w >> 15 & 1}
		if w&spifNoTime == 0 {
			if i+8 > len(b) {
				return dst, truncated("spif", int64(i+4), "timestamp word missing after event")
			}
			i += 4
			e.Time = int64(binary.LittleEndian.Uint32(b[i:]))
		}
		dst = append(dst, e)
	}
	return dst, nil
}

// AppendSPIF appends events as SPIF words, each followed by its 32-bit
// timestamp if withTime. Coordinates are cut to 15 bits and the polarity to
// bit 0 of Payload.
func AppendSPIF(dst []byte, evs []Event, withTime bool) []byte {
	for i := range evs {
		x, y := SplitXY(evs[i].Channel)
		w := uint32(x&0x7FFF)<<16 | uint32(y&0x7FFF) | (evs[i].Payload&1)<<15
		if withTime {
			dst = binary.LittleEndian.AppendUint32(dst, w)
			dst = binary.LittleEndian.AppendUint32(dst, uint32(evs[i].Time))
		} else {
			dst = binary.LittleEndian.AppendUint32(dst, w|spifNoTime)
		}
	}
	return dst
}
