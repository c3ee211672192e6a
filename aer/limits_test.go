package aer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestWritersRefuse: a writer refuses an event it cannot represent with
// the event's index and the format's limit, instead of cutting a field;
// the events before it are written.
func TestWritersRefuse(t *testing.T) {
	ok := Event{Time: 10, Channel: XY(1, 2), Payload: 1}
	tests := []struct {
		name   string
		format Format
		opt    WriteOptions
		bad    Event
		want   string
	}{
		{"aedat2 time", FormatAEDAT2, WriteOptions{}, Event{Time: 3_000_000_000}, "aer: aedat2: event 2: time 3000000000 outside -2147483648…2147483647 µs (int32)"},
		{"aedat2 negative time", FormatAEDAT2, WriteOptions{}, Event{Time: -3_000_000_000}, "time -3000000000 outside"},
		{"aedat2 dvs128 x", FormatAEDAT2, WriteOptions{AEDAT2Layout: AEDAT2DVS128}, Event{Channel: XY(128, 0)}, "event 2: x 128 outside 0…127"},
		{"aedat2 davis y", FormatAEDAT2, WriteOptions{AEDAT2Layout: AEDAT2DAVIS}, Event{Channel: XY(0, 512)}, "event 2: y 512 outside 0…511"},
		{"aedat2 polarity", FormatAEDAT2, WriteOptions{AEDAT2Layout: AEDAT2DAVIS}, Event{Payload: 2}, "event 2: polarity 2 outside 0…1"},
		{"aedat3 x", FormatAEDAT3, WriteOptions{}, Event{Channel: XY(40000, 0)}, "aer: aedat3: event 2: x 40000 outside 0…32767"},
		{"aedat3 y", FormatAEDAT3, WriteOptions{}, Event{Channel: XY(0, 32768)}, "event 2: y 32768 outside 0…32767"},
		{"aedat3 neuron id", FormatAEDAT3, WriteOptions{AEDAT3Type: AEDAT3Spike}, Event{Channel: 1 << 20}, "event 2: neuron id 1048576 outside 0…1048575"},
		{"aedat3 chip/core id", FormatAEDAT3, WriteOptions{AEDAT3Type: AEDAT3Spike}, Event{Port: 2048}, "event 2: chip/core id 2048 outside 0…2047"},
		{"aedat3 time", FormatAEDAT3, WriteOptions{}, Event{Time: 1 << 62}, "event 2: time 4611686018427387904 outside 0…4611686018427387903 µs"},
		{"aedat3 negative time", FormatAEDAT3, WriteOptions{}, Event{Time: -1}, "event 2: time -1 outside"},
		{"aedat4 outside the sensor", FormatAEDAT4, WriteOptions{Width: 10, Height: 10}, Event{Channel: XY(299, 5)}, "aer: aedat4: event 2: x 299 outside 0…9 (the sensor is 10×10)"},
		{"aedat4 y", FormatAEDAT4, WriteOptions{Width: 10, Height: 10}, Event{Channel: XY(5, 10)}, "event 2: y 10 outside 0…9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			w, err := OpenWriter(&b, tc.format, Microsecond, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			good := ok
			if tc.opt.AEDAT3Type == AEDAT3Spike {
				good = Event{Time: 10, Channel: 7, Port: 3}
			}
			if _, err := w.Write([]Event{good}); err != nil {
				t.Fatal(err)
			}
			n, err := w.Write([]Event{good, tc.bad, good})
			var re *RangeError
			if !errors.As(err, &re) || err.Error() != tc.want && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %d, %v; want a *RangeError %q", n, err, tc.want)
			}
			if n != 1 {
				t.Errorf("Write returned %d, want 1 (the event before the bad one)", n)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, _ := readAll(t, b.Bytes(), tc.format)
			if len(got) != 2 || !reflect.DeepEqual(got[0], good) && tc.format != FormatAEDAT2 {
				t.Errorf("file holds %v, want the two good events", got)
			}
		})
	}
}

// TestWriterLimitsRoundTrip: the extreme values each writer accepts read
// back unchanged.
func TestWriterLimitsRoundTrip(t *testing.T) {
	tests := []struct {
		format Format
		opt    WriteOptions
		evs    []Event
	}{
		{FormatAEDAT2, WriteOptions{}, []Event{{Time: math.MinInt32, Channel: 1}, {Time: math.MaxInt32, Channel: 0xFFFFFFFF}}},
		{FormatAEDAT2, WriteOptions{AEDAT2Layout: AEDAT2DAVIS}, []Event{{Time: 1, Channel: XY(1023, 511), Payload: 1}}},
		{FormatAEDAT3, WriteOptions{}, []Event{{Time: 0, Channel: XY(32767, 32767), Payload: 1}, {Time: aedat3MaxTime, Channel: XY(1, 1)}}},
		{FormatAEDAT3, WriteOptions{AEDAT3Type: AEDAT3Spike}, []Event{{Time: 1<<40 + 3, Channel: 0xFFFFF, Port: 0x7FF}}},
		{FormatAEDAT4, WriteOptions{Width: 300, Height: 200}, []Event{{Time: -5, Channel: XY(299, 199), Payload: 1}, {Time: math.MaxInt64, Channel: XY(0, 0)}}},
		{FormatCSV, WriteOptions{}, []Event{{Time: math.MinInt64, Port: 0xFFFF, Channel: 0xFFFFFFFF, Payload: 0xFFFFFFFF}, {Time: math.MaxInt64}}},
		{FormatNative, WriteOptions{}, []Event{{Time: math.MaxInt64, Port: 0xFFFF, Channel: 0xFFFFFFFF, Payload: 1}, {Time: math.MinInt64, Port: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.format.String(), func(t *testing.T) {
			b := writeAll(t, tc.format, Microsecond, tc.opt, tc.evs)
			got, _ := readAll(t, b, tc.format)
			if tc.format == FormatAEDAT2 {
				r, _ := NewAEDAT2Reader(bytes.NewReader(b), tc.opt.AEDAT2Layout)
				got, _ = ReadAll(r, 0)
			}
			if !reflect.DeepEqual(got, tc.evs) {
				t.Errorf("got %v, want %v", got, tc.evs)
			}
		})
	}
}

// TestCSVReader: a byte-order mark is skipped; the time range message is
// right.
func TestCSVReader(t *testing.T) {
	in := "\xef\xbb\xbftick,port,channel,payload\n-9223372036854775808,1,2,3\n"
	if f := DetectFormat([]byte(in)); f != FormatCSV {
		t.Errorf("DetectFormat with a BOM: %v, want csv", f)
	}
	got, _ := readAll(t, []byte(in), FormatUnknown)
	if want := []Event{{Time: math.MinInt64, Port: 1, Channel: 2, Payload: 3}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	r, _ := NewCSVReader(strings.NewReader("tick,port,channel,payload\n-9223372036854775809,1,2,3\n"))
	_, err := ReadAll(r, 0)
	if want := "line 2: field 1 (time) is not a number in -9223372036854775808..9223372036854775807 at offset 27"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

// TestPcapOffsets: errors in captures give the offset of the record they
// are about (they all said "at offset 0").
func TestPcapOffsets(t *testing.T) {
	var buf bytes.Buffer
	pw, _ := NewPcapWriter(&buf)
	pkt, _ := AppendNative(nil, 0, 0, []Event{{Channel: 1}})
	for range 3 {
		pw.WriteDatagram(time.Unix(1, 0), nil, &net.UDPAddr{Port: NativePort}, pkt)
	}
	pw.Flush()
	full := buf.Bytes()
	rec := (len(full) - 24) / 3 // one record
	if int64(len(full)) != pw.Size() {
		t.Errorf("Size() = %d, the file has %d bytes", pw.Size(), len(full))
	}
	cut := full[:24+2*rec+10] // the third record cut short
	pr, err := NewPcapReader(bytes.NewReader(cut))
	if err != nil {
		t.Fatal(err)
	}
	var fe *FormatError
	for err == nil {
		_, err = pr.Next()
	}
	if !errors.As(err, &fe) || fe.Offset != int64(24+2*rec) || !errors.Is(err, ErrTruncated) {
		t.Errorf("cut capture: got %v, want a truncation at offset %d", err, 24+2*rec)
	}
	huge := append([]byte(nil), full...)
	binary.LittleEndian.PutUint32(huge[24+rec+8:], 1<<30) // caplen of the second record
	pr, _ = NewPcapReader(bytes.NewReader(huge))
	for err = nil; err == nil; {
		_, err = pr.Next()
	}
	if !errors.As(err, &fe) || fe.Offset != int64(24+rec) {
		t.Errorf("bad record length: got %v, want offset %d", err, 24+rec)
	}
	if _, err := NewPcapReader(bytes.NewReader(full[:10])); !errors.As(err, &fe) || fe.Offset != 10 || !errors.Is(err, ErrTruncated) {
		t.Errorf("cut file header: got %v, want a truncation at offset 10", err)
	}
}

// TestPcapLimit: a capture with a Limit stops before the record that would
// pass it and stays a valid capture.
func TestPcapLimit(t *testing.T) {
	var buf bytes.Buffer
	pw, _ := NewPcapWriter(&buf)
	pw.Limit = 500
	pkt, _ := AppendNative(nil, 0, 0, []Event{{Channel: 1}})
	n := 0
	for ; n < 100; n++ {
		if err := pw.WriteDatagram(time.Unix(1, 0), nil, &net.UDPAddr{Port: NativePort}, pkt); err != nil {
			if !errors.Is(err, ErrCaptureFull) {
				t.Fatal(err)
			}
			break
		}
	}
	pw.Flush()
	if buf.Len() > 500 || n == 0 || n == 100 {
		t.Fatalf("%d datagrams, %d bytes: want some, at most 500 bytes", n, buf.Len())
	}
	pr, _ := NewPcapReader(bytes.NewReader(buf.Bytes()))
	for i := 0; i < n; i++ {
		if _, err := pr.Next(); err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
	}
}

// TestEIEIOArrivalStamps: EIEIO packets without timestamps (32-bit keys,
// the injection form) give their events the arrival time, live and from a
// capture, instead of time 0 for everything.
func TestEIEIOArrivalStamps(t *testing.T) {
	t0 := time.Unix(100, 0)
	k32, _ := AppendEIEIO(nil, EIEIOHeader{Type: EIEIOKey32}, []Event{{Channel: 1}, {Channel: 2}})
	lpg, _ := AppendEIEIO(nil, EIEIOHeader{Type: EIEIOKey32, HasPayloadPrefix: true, Timestamp: true, PayloadPrefix: 77}, []Event{{Channel: 3}})
	for _, unit := range []Unit{Tick, Microsecond} {
		r, _ := NewReceiver(nil, ReceiverConfig{Format: WireEIEIO, Unit: unit})
		r.HandleAt(k32, nil, t0)
		r.HandleAt(k32, nil, t0.Add(5*time.Millisecond+300*time.Microsecond))
		r.HandleAt(lpg, nil, t0.Add(9*time.Millisecond))
		var times []int64
		for _, e := range r.pending {
			times = append(times, e.Time)
		}
		want := []int64{0, 0, 5, 5, 77} // ticks of 1 ms; the lpg packet keeps its timestep
		if unit == Microsecond {
			want = []int64{0, 0, 5300, 5300, 77}
		}
		if !reflect.DeepEqual(times, want) {
			t.Errorf("%v: times %v, want %v", unit, times, want)
		}
	}
	var buf bytes.Buffer
	pw, _ := NewPcapWriter(&buf)
	dst := &net.UDPAddr{Port: SpiNNakerNotificationPort}
	pw.WriteDatagram(t0, nil, dst, k32)
	pw.WriteDatagram(t0.Add(20*time.Millisecond), nil, dst, k32)
	pw.Flush()
	got, _ := readAll(t, buf.Bytes(), FormatPcap)
	if len(got) != 4 || got[0].Time != 0 || got[2].Time != 20 || got[3].Time != 20 {
		t.Errorf("capture: %v, want times 0, 0, 20, 20 (ms ticks)", got)
	}
}

// TestSenderCountsWhatWentOut: a send that fails counts no events (it once
// reported every event of a failed send as sent).
func TestSenderCountsWhatWentOut(t *testing.T) {
	_, tx := loopback(t)
	s, err := NewSender(tx, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0}, SenderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_, werr := s.Write(make([]Event, 5000))
	if werr == nil {
		werr = s.Close()
	}
	if werr == nil {
		t.Skip("this system sends to port 0")
	}
	if st := s.Stats(); st.Events != 0 || st.Packets != 0 {
		t.Errorf("after %v: stats %+v, want nothing sent", werr, st)
	}
}

// TestPcapngOffsets: a pcapng block cut short is reported at its offset.
func TestPcapngOffsets(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	var pb bytes.Buffer
	pw, _ := NewPcapWriter(&pb)
	pkt, _ := AppendNative(nil, 0, 0, []Event{{Channel: 1}})
	pw.WriteDatagram(time.Unix(1, 0), nil, &net.UDPAddr{Port: NativePort}, pkt)
	pw.Flush()
	frame := pb.Bytes()[24+16:] // the Ethernet frame of the one pcap record
	var starts []int
	for range 3 {
		w.Flush()
		starts = append(starts, buf.Len())
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(frame), Length: len(frame), InterfaceIndex: 0}, frame); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	pr, err := NewPcapReader(bytes.NewReader(buf.Bytes()[:starts[2]+12]))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = pr.Next()
	}
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Format != "pcapng" || fe.Offset != int64(starts[2]) {
		t.Errorf("got %v, want a pcapng error at offset %d", err, starts[2])
	}
}
