package aer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// cameraEvents returns n polarity events on a 346×260 sensor with rising µs
// times (ties included).
func cameraEvents(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{Time: int64(i / 2 * 3), Channel: XY(uint16(i*7%346), uint16(i*13%260)), Payload: uint32(i % 2)}
	}
	return evs
}

func writeAll(t testing.TB, f Format, unit Unit, opt WriteOptions, evs []Event) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := OpenWriter(&b, f, unit, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(evs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readAll(t testing.TB, b []byte, f Format) ([]Event, Format) {
	t.Helper()
	r, got, err := OpenReader(bytes.NewReader(b), f, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := ReadAll(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs, got
}

func TestFileRoundTrip(t *testing.T) {
	mixed := []Event{{Time: -5, Port: 3, Channel: 1}, {Time: 1 << 40, Port: 3, Channel: 2, Payload: 9}, {Time: 7, Port: 0, Channel: 0xFFFFFFFF}}
	spikes := []Event{{Time: 1, Channel: 5, Port: 3<<5 | 2}, {Time: 1<<31 + 4, Channel: 0xFFFFF, Port: 0x7FF}}
	tests := []struct {
		format Format
		opt    WriteOptions
		evs    []Event
	}{
		{FormatNative, WriteOptions{}, cameraEvents(1000)},
		{FormatNative, WriteOptions{}, mixed},
		{FormatCSV, WriteOptions{}, mixed},
		{FormatAEDAT2, WriteOptions{}, []Event{{Time: 5, Channel: 0xDEADBEEF}, {Time: -1, Channel: 1}}},
		{FormatAEDAT2, WriteOptions{AEDAT2Layout: AEDAT2DVS128}, []Event{{Time: 5, Channel: XY(127, 3), Payload: 1}}},
		{FormatAEDAT3, WriteOptions{}, cameraEvents(5000)},
		{FormatAEDAT3, WriteOptions{AEDAT3Type: AEDAT3Spike}, spikes},
	}
	for _, tc := range tests {
		t.Run(tc.format.String(), func(t *testing.T) {
			b := writeAll(t, tc.format, Microsecond, tc.opt, tc.evs)
			r, f, err := OpenReader(bytes.NewReader(b), FormatUnknown, ReadOptions{AEDAT2Layout: tc.opt.AEDAT2Layout})
			if err != nil {
				t.Fatal(err)
			}
			if f != tc.format {
				t.Errorf("detected %v, want %v", f, tc.format)
			}
			got, err := ReadAll(r, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.evs) {
				t.Errorf("got %d events %v..., want %d %v...", len(got), got[:min(3, len(got))], len(tc.evs), tc.evs[:min(3, len(tc.evs))])
			}
		})
	}
}

func TestFileCorruption(t *testing.T) {
	b := writeAll(t, FormatNative, Tick, WriteOptions{}, cameraEvents(500))
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		offset int64
	}{
		{"cut in a record", func(b []byte) []byte { return b[:100] }, 100},
		{"flipped bit", func(b []byte) []byte { b[40] ^= 1; return b }, 16 + 4 + 1472}, // 121 12-byte events: a 1472-byte packet
		{"huge length", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[16:], 1<<30); return b }, 16},
		{"bad magic", func(b []byte) []byte { b[1] = 'X'; return b }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.mutate(append([]byte(nil), b...))
			r, _, err := OpenReader(bytes.NewReader(m), FormatNative, ReadOptions{})
			if err == nil {
				_, err = ReadAll(r, 0)
			}
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want a corruption error", err)
			}
			if fe.Offset != tc.offset {
				t.Errorf("offset: got %d, want %d (%v)", fe.Offset, tc.offset, err)
			}
		})
	}
}

func TestCSVErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"tick,port,channel,payload\n1,2,3\n", "want 4 fields"},
		{"tick,port,channel,payload\n1,70000,3,4\n", "field 2"},
		{"time,x\n", "header"},
		{"tick,port,channel,payload\n1,2,3,4x\n", "unexpected"},
	}
	for _, tc := range tests {
		r, err := NewCSVReader(strings.NewReader(tc.in))
		if err == nil {
			_, err = ReadAll(r, 0)
		}
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: got %v, want an error about %q", tc.in, err, tc.msg)
		}
	}
}

// TestAEDAT3Bytes checks one polarity packet byte by byte against the
// libcaer layout (reference formats.md §3): 28-byte LE header (type 1,
// source 1, size 8, ts offset 4, overflow 0, capacity/number/valid 1),
// then data x<<17 | y<<2 | pol<<1 | valid and the int32 timestamp.
func TestAEDAT3Bytes(t *testing.T) {
	b := writeAll(t, FormatAEDAT3, Microsecond, WriteOptions{}, []Event{{Time: 1000, Channel: XY(10, 20), Payload: 1}})
	body := b[bytes.Index(b, []byte("#!END-HEADER\r\n"))+14:]
	want := unhex(t, "0100 0100 08000000 04000000 00000000 01000000 01000000 01000000"+
		"53001400 e8030000") // 10<<17 | 20<<2 | 1<<1 | 1 = 0x00140053
	if !bytes.Equal(body, want) {
		t.Errorf("got\n% x\nwant\n% x", body, want)
	}
}

// TestAEDAT2Bytes checks the events of an AEDAT 2.0 file byte by byte
// against jAER's layout (reference formats.md §3): big-endian int32 address
// and int32 µs timestamp. DVS128: polarity bit 0, x bits 7..1, y bits 14..8,
// so x=3, y=4, on is 4<<8 | 3<<1 | 1 = 0x0407.
func TestAEDAT2Bytes(t *testing.T) {
	b := writeAll(t, FormatAEDAT2, Microsecond, WriteOptions{AEDAT2Layout: AEDAT2DVS128}, []Event{{Time: 1000, Channel: XY(3, 4), Payload: 1}})
	if !bytes.HasPrefix(b, []byte("#!AER-DAT2.0\r\n")) {
		t.Errorf("header: %q", b[:20])
	}
	if got, want := b[len(b)-8:], unhex(t, "00000407 000003e8"); !bytes.Equal(got, want) {
		t.Errorf("event: got % x, want % x", got, want)
	}
	// DAVIS: y bits 30..22, x bits 21..12, polarity bit 11; APS/IMU events
	// (bit 31 set) are skipped.
	davis := append([]byte("#!AER-DAT2.0\r\n"), unhex(t, "01403800 00000005  80000000 00000006")...) // y=5, x=3, on
	r, err := NewAEDAT2Reader(bytes.NewReader(davis), AEDAT2DAVIS)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadAll(r, 0)
	if want := []Event{{Time: 5, Channel: XY(3, 5), Payload: 1}}; err != nil || !reflect.DeepEqual(got, want) || r.Skipped != 1 {
		t.Errorf("davis: got %v %v (skipped %d), want %v", got, err, r.Skipped, want)
	}
}

// TestNMNIST decodes records written by hand from the N-MNIST layout:
// (x 3, y 4, on, t 0x010203) then an overflow record (y 240) then (x 1,
// y 2, off, t 5), which gets 2¹³ added.
func TestNMNIST(t *testing.T) {
	b := unhex(t, "03 04 81 02 03  00 f0 00 00 00  01 02 00 00 05")
	got, _ := readAll(t, b, FormatNMNIST)
	want := []Event{{Time: 0x010203, Channel: XY(3, 4), Payload: 1}, {Time: 5 + 8192, Channel: XY(1, 2)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	_, err := ReadAll(NewNMNISTReader(bytes.NewReader(b[:12])), 0)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != 10 {
		t.Errorf("truncated: got %v, want an error at offset 10", err)
	}
}

// fbEventPacket builds an EventPacket FlatBuffer ("EVTS") by hand, laid out
// as flatc does: root offset, identifier, vtable, table, then the vector of
// 16-byte Event structs {i64 t, i16 x, i16 y, bool on, pad}.
func fbEventPacket(evs []Event) []byte {
	b := make([]byte, 0, 64+16*len(evs))
	b = binary.LittleEndian.AppendUint32(b, 16) // root table at 16
	b = append(b, "EVTS"...)
	b = binary.LittleEndian.AppendUint16(b, 6) // vtable at 8: size 6
	b = binary.LittleEndian.AppendUint16(b, 8) // table size 8
	b = binary.LittleEndian.AppendUint16(b, 4) // field 0 at table+4
	b = append(b, 0, 0)                        // pad to 16
	b = binary.LittleEndian.AppendUint32(b, 8) // table at 16: soffset to vtable (16-8)
	b = binary.LittleEndian.AppendUint32(b, 8) // field 0 at 20: vector at 20+8 = 28
	b = append(b, 0, 0, 0, 0)                  // pad: vector length at 28, elements at 32
	b = binary.LittleEndian.AppendUint32(b, uint32(len(evs)))
	for _, e := range evs {
		x, y := SplitXY(e.Channel)
		b = binary.LittleEndian.AppendUint64(b, uint64(e.Time))
		b = binary.LittleEndian.AppendUint16(b, x)
		b = binary.LittleEndian.AppendUint16(b, y)
		b = append(b, byte(e.Payload), 0, 0, 0)
	}
	return b
}

// aedat4File builds an AEDAT 4.0 file: version line, size-prefixed IOHeader
// {compression, dataTablePosition -1, infoNode}, then one packet per chunk.
func aedat4File(t testing.TB, compression int32, chunks ...[]Event) []byte {
	t.Helper()
	info := "<dv version=\"2.0\"><node name=\"outInfo\"/></dv>"
	hdr := binary.LittleEndian.AppendUint32(nil, 20) // root table at 20
	hdr = append(hdr, "IOHE"...)
	hdr = append(hdr, 10, 0, 24, 0, 4, 0, 8, 0, 16, 0, 0, 0)         // vtable at 8..18, pad to 20
	hdr = binary.LittleEndian.AppendUint32(hdr, 12)                  // table at 20: vtable at 20-12 = 8
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(compression)) // field 0 at 24
	hdr = binary.LittleEndian.AppendUint64(hdr, ^uint64(0))          // field 1 at 28: -1
	hdr = binary.LittleEndian.AppendUint32(hdr, 8)                   // field 2 at 36: string at 44
	hdr = append(hdr, 0, 0, 0, 0)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(info)))
	hdr = append(hdr, info...)
	hdr = append(hdr, 0)

	f := append([]byte("#!AER-DAT4.0\r\n"), binary.LittleEndian.AppendUint32(nil, uint32(len(hdr)))...)
	f = append(f, hdr...)
	for _, c := range chunks {
		pkt := fbEventPacket(c)
		switch compression {
		case 1:
			var z bytes.Buffer
			w := lz4.NewWriter(&z)
			w.Write(pkt)
			w.Close()
			pkt = z.Bytes()
		case 3:
			enc, _ := zstd.NewWriter(nil)
			pkt = enc.EncodeAll(pkt, nil)
		}
		f = binary.LittleEndian.AppendUint32(f, 0)
		f = binary.LittleEndian.AppendUint32(f, uint32(len(pkt)))
		f = append(f, pkt...)
	}
	return f
}

func TestAEDAT4(t *testing.T) {
	evs := cameraEvents(300)
	for _, c := range []int32{0, 1, 3} {
		b := aedat4File(t, c, evs[:100], evs[100:])
		got, f := readAll(t, b, FormatUnknown)
		if f != FormatAEDAT4 || !reflect.DeepEqual(got, evs) {
			t.Errorf("compression %d: format %v, got %d events, want %d", c, f, len(got), len(evs))
		}
	}
	b := aedat4File(t, 0, evs[:10])
	for cut := 0; cut < len(b); cut += 7 {
		r, err := NewAEDAT4Reader(bytes.NewReader(b[:cut]))
		if err == nil {
			_, err = ReadAll(r, 0)
		}
		if cut < len(b) && !errors.Is(err, ErrCorrupt) && !(err == nil && cut > 0) {
			t.Errorf("cut at %d: got %v", cut, err)
		}
	}
}

func TestAEDAT4Write(t *testing.T) {
	evs := cameraEvents(20000) // three packets
	for _, c := range []int{0, 1, 2, 3, 4} {
		b := writeAll(t, FormatAEDAT4, Microsecond, WriteOptions{AEDAT4Compression: c, Width: 346, Height: 260}, evs)
		got, f := readAll(t, b, FormatUnknown)
		if f != FormatAEDAT4 || !reflect.DeepEqual(got, evs) {
			t.Errorf("compression %d: format %v, got %d events, want %d", c, f, len(got), len(evs))
		}
		r, _ := NewAEDAT4Reader(bytes.NewReader(b))
		if r.Compression() != c || !strings.Contains(r.Info, `<attr key="sizeX" type="int">346</attr>`) {
			t.Errorf("compression %d: header says %d, info %q", c, r.Compression(), r.Info)
		}
	}
	// The FlatBuffers verifier checks alignment from the start of a
	// size-prefixed buffer: the IOHeader's int64 must sit at a multiple
	// of 8, the events' int64 time stamps too.
	hdr := fbIOHeader(1, "x")
	if len(hdr)%8 != 0 || binary.LittleEndian.Uint64(hdr[32:]) != ^uint64(0) {
		t.Errorf("IOHeader: %d bytes, dataTablePosition at 32 = %#x", len(hdr), binary.LittleEndian.Uint64(hdr[32:]))
	}
	pkt := appendFBEventPacket(nil, evs[:3])
	if binary.LittleEndian.Uint64(pkt[32:]) != uint64(evs[0].Time) || int(binary.LittleEndian.Uint32(pkt)) != len(pkt)-4 {
		t.Errorf("event packet: first time stamp not at offset 32 or bad size prefix")
	}
	if _, err := NewAEDAT4Writer(io.Discard, 0, 0, 10); err == nil {
		t.Error("zero width accepted")
	}
}

func TestPcapRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	pw, err := NewPcapWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	evs := cameraEvents(400)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	src := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 40000}
	var seq uint32
	for rest := evs; len(rest) > 0; seq++ {
		pkt, n := AppendNative(nil, NativeFlagPayload|NativeFlagMicroseconds, seq, rest)
		if seq == 1 {
			seq++ // one datagram lost on the wire
		}
		rest = rest[n:]
		pw.WriteDatagram(t0.Add(time.Duration(seq)*time.Millisecond), src, &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: NativePort}, pkt)
	}
	eieio, _ := AppendEIEIO(nil, EIEIOHeader{Type: EIEIOKey32}, []Event{{Channel: 0x800}})
	pw.WriteDatagram(t0, src, &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: SpiNNakerNotificationPort}, eieio)
	pw.WriteDatagram(t0, src, &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 53}, []byte("dns"))
	pw.Flush()

	r, f, err := OpenReader(bytes.NewReader(buf.Bytes()), FormatUnknown, ReadOptions{})
	if err != nil || f != FormatPcap {
		t.Fatalf("open: %v %v", f, err)
	}
	got, err := ReadAll(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]Event(nil), evs...), Event{Channel: 0x800})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %d events, want %d", len(got), len(want))
	}
	pe := r.(*PcapEvents)
	if st := pe.Stats(); st.Lost != 1 || st.Malformed != 0 || pe.Unknown != 1 {
		t.Errorf("stats %+v unknown %d", st, pe.Unknown)
	}
}

func TestReplay(t *testing.T) {
	var buf bytes.Buffer
	pw, _ := NewPcapWriter(&buf)
	t0 := time.Now()
	for i := range 5 {
		pkt, _ := AppendNative(nil, 0, uint32(i), []Event{{Channel: uint32(i)}})
		pw.WriteDatagram(t0.Add(time.Duration(i)*10*time.Millisecond), nil, &net.UDPAddr{Port: NativePort}, pkt)
	}
	pw.Flush()
	rx, tx := loopback(t)
	pr, err := NewPcapReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	st, err := Replay(t.Context(), pr, tx, rx.LocalAddr(), false, 1)
	if err != nil || st.Packets != 5 {
		t.Fatalf("replay: %+v %v", st, err)
	}
	// Timing is kept: 40 ms between the first and the last datagram
	// (a lower bound only; a loaded machine may be slower).
	if el := time.Since(start); el < 40*time.Millisecond {
		t.Errorf("replay took %v, want ≥ 40ms", el)
	}
	r, _ := NewReceiver(rx, ReceiverConfig{})
	if got := receiveAll(t, rx, r, 200*time.Millisecond); len(got) != 5 {
		t.Errorf("received %d events, want 5", len(got))
	}
}

func TestSummarize(t *testing.T) {
	evs := []Event{{Time: 10, Port: 1, Channel: XY(3, 4)}, {Time: 5, Port: 9, Channel: XY(1, 8)}, {Time: 1000010, Port: 1, Channel: XY(2, 2)}}
	s, err := Summarize(&SliceReader{Events: evs}, Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	if s.Events != 3 || s.FirstTime != 10 || s.LastTime != 1000010 || s.OutOfOrder != 1 ||
		!reflect.DeepEqual(s.Ports, []int{1, 9}) || s.MinX != 1 || s.MaxY != 8 || s.Rate < 2.99 || s.Rate > 3.01 {
		t.Errorf("got %+v", s)
	}
}
