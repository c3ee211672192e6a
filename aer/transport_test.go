package aer

import (
	"encoding/binary"
	"errors"
	"net"
	"reflect"
	"testing"
	"time"
)

func TestSeqTracker(t *testing.T) {
	tests := []struct {
		name string
		seqs []uint32
		want SeqTracker // counters only
	}{
		{"in order", []uint32{5, 6, 7}, SeqTracker{Received: 3}},
		{"one lost", []uint32{1, 2, 4}, SeqTracker{Received: 3, Lost: 1}},
		{"reordered fills gap", []uint32{1, 3, 2}, SeqTracker{Received: 3, Reordered: 1}},
		{"duplicate", []uint32{1, 2, 2, 1}, SeqTracker{Received: 2, Duplicate: 2}},
		{"wrap around", []uint32{0xFFFFFFFE, 0xFFFFFFFF, 0, 2}, SeqTracker{Received: 4, Lost: 1}},
		{"late beyond window", []uint32{0, 100, 1}, SeqTracker{Received: 3, Lost: 98, Late: 1}},
		{"restart", []uint32{1 << 30, 0, 1}, SeqTracker{Received: 3, Resyncs: 1}},
		{"big gap then fill", []uint32{10, 80, 79, 16}, SeqTracker{Received: 4, Lost: 67, Reordered: 1, Late: 1}},
	}
	for _, tc := range tests {
		var got SeqTracker
		for _, s := range tc.seqs {
			got.Observe(s)
		}
		got.init, got.high, got.window = false, 0, 0
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// loopback returns a receiving and a sending UDP socket on 127.0.0.1.
func loopback(t testing.TB) (rx, tx *net.UDPConn) {
	t.Helper()
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("no loopback UDP: %v", err)
	}
	tx, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close(); tx.Close() })
	return rx, tx
}

// receiveAll reads until no datagram arrived for idle.
func receiveAll(t testing.TB, rx *net.UDPConn, r *Receiver, idle time.Duration) []Event {
	t.Helper()
	var got []Event
	buf := make([]Event, 4096)
	for {
		rx.SetReadDeadline(time.Now().Add(idle))
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return got
			}
			t.Fatal(err)
		}
	}
}

func TestUDPRoundTrip(t *testing.T) {
	evs := make([]Event, 1000)
	for i := range evs {
		evs[i] = Event{Time: int64(i / 3), Channel: XY(uint16(i%100), uint16(i%50)), Payload: uint32(i % 2)}
	}
	tests := []struct {
		format WireFormat
		cfg    SenderConfig
		want   func(Event) Event // what survives the format
	}{
		{WireNative, SenderConfig{}, func(e Event) Event { return e }},
		{WireEIEIO, SenderConfig{EIEIO: EIEIOHeader{Type: EIEIOKey32Payload32}}, func(e Event) Event { e.Time = 0; return e }},
		{WireEIEIO, SenderConfig{EIEIO: EIEIOHeader{Type: EIEIOKey32, HasPayloadPrefix: true, Timestamp: true}},
			func(e Event) Event { e.Payload = 0; return e }},
		{WireEIEIO, SenderConfig{EIEIO: EIEIOHeader{Type: EIEIOKey32}, SDP: &SDPHeader{Flags: 7, DestPort: 1, DestCPU: 5, DestX: 1, DestY: 2}},
			func(e Event) Event { e.Time, e.Payload = 0, 0; return e }},
		{WireJAER, SenderConfig{}, func(e Event) Event { e.Payload = 0; return e }},
		{WireSPIF, SenderConfig{SPIFTime: true}, func(e Event) Event { return e }},
	}
	for _, tc := range tests {
		t.Run(tc.format.String(), func(t *testing.T) {
			rx, tx := loopback(t)
			tc.cfg.Format = tc.format
			tc.cfg.Rate = 2e6 // paced: nothing may be lost
			s, err := NewSender(tx, rx.LocalAddr(), tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := NewReceiver(rx, ReceiverConfig{Format: tc.format, SDP: tc.cfg.SDP != nil})
			if _, err := s.Write(evs); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			got := receiveAll(t, rx, r, 300*time.Millisecond)
			if tc.format == WireEIEIO && !tc.cfg.EIEIO.Timestamp {
				for i := range got {
					got[i].Time = 0 // arrival stamps: see TestEIEIOArrivalStamps
				}
			}
			want := make([]Event, len(evs))
			for i := range evs {
				want[i] = tc.want(evs[i])
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %d events, want %d; first got %v want %v", len(got), len(want), got[:min(3, len(got))], want[:3])
			}
			st := r.Stats()
			if st.Lost != 0 || st.Malformed != 0 || st.Events != uint64(len(evs)) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestUDPFloodAccounting overloads a receiver whose socket buffer is tiny
// and that does not read while the sender floods; the kernel drops most
// datagrams. The loss counter must equal the number of sequence numbers
// missing between the first and the last datagram that arrived, as seen
// by an independent tap on the raw datagrams.
func TestUDPFloodAccounting(t *testing.T) {
	rx, tx := loopback(t)
	seen := map[uint32]bool{}
	var first, last uint32
	tap := func(b []byte, _ net.Addr) {
		if len(b) >= NativeHeaderLen {
			s := binary.LittleEndian.Uint32(b[8:])
			if len(seen) == 0 {
				first = s
			}
			seen[s] = true
			last = s
		}
	}
	r, _ := NewReceiver(rx, ReceiverConfig{ReadBuffer: 16 << 10, Tap: tap})
	s, _ := NewSender(tx, rx.LocalAddr(), SenderConfig{})
	evs := make([]Event, NativeMaxEvents)
	const flood = 2000 // datagrams, far more than a 16 KiB buffer holds
	for range flood {
		if _, err := s.Write(evs); err != nil {
			t.Fatal(err)
		}
	}
	s.Flush()
	// Then a paced tail, received while it is sent, so losses sit in the middle.
	done := make(chan []Event)
	go func() { done <- receiveAll(t, rx, r, 500*time.Millisecond) }()
	time.Sleep(20 * time.Millisecond)
	s.cfg.Rate, s.start, s.stats.Events, s.batchEvents = 1e6, time.Time{}, 0, 0
	for range 50 {
		s.Write(evs)
		s.Flush()
	}
	s.Close()
	got := <-done
	st := r.Stats()
	// Against what was sent: every sequence number 0..sent-1 that did not
	// arrive is missing; the receiver can see all of them except any
	// before the first or after the last arrival (normally none: the
	// first datagram meets an empty buffer, the paced tail gets through).
	sent := s.Stats().Packets // including the closing heartbeat
	trueMissing := sent - uint64(len(seen))
	invisible := uint64(first) + (sent - 1 - uint64(last))
	t.Logf("sent %d datagrams, received %d, lost %d (true %d, invisible %d), events %d", sent, len(seen), st.Lost, trueMissing, invisible, len(got))
	if st.Lost != trueMissing-invisible {
		t.Errorf("lost: got %d, want %d (%d missing of %d sent, %d before the first or after the last arrival)",
			st.Lost, trueMissing-invisible, trueMissing, sent, invisible)
	}
	if st.Lost == 0 {
		t.Errorf("nothing lost in a flood of %d datagrams into a 16 KiB buffer", flood)
	}
	if st.Events != uint64(len(got)) || st.Duplicate != 0 || st.Malformed != 0 {
		t.Errorf("stats %+v, events read %d", st, len(got))
	}
}

func TestReceiverSurvivesGarbage(t *testing.T) {
	r, _ := NewReceiver(nil, ReceiverConfig{Format: WireNative})
	good, _ := AppendNative(nil, 0, 0, []Event{{Channel: 1}})
	for _, b := range [][]byte{nil, {1, 2, 3}, good[:len(good)-1], make([]byte, 5000), good} {
		r.Handle(b, nil)
	}
	if st := r.Stats(); st.Malformed != 4 || st.Events != 1 || st.Packets != 5 {
		t.Errorf("stats %+v", st)
	}
	if !errors.Is(r.LastMalformed, ErrCorrupt) {
		t.Errorf("last error %v", r.LastMalformed)
	}
}

// TestSenderPacing checks that a slow paced stream is spread out in time
// rather than held for a full batch: 400 events at 10,000 events/s take at
// least 30 ms (a lower bound only: a loaded machine may be slower) and
// leave in many small batches.
func TestSenderPacing(t *testing.T) {
	rx, tx := loopback(t)
	s, _ := NewSender(tx, rx.LocalAddr(), SenderConfig{Rate: 1e4})
	evs := make([]Event, 400)
	start := time.Now()
	for i := range evs {
		if _, err := s.Write(evs[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	s.Flush()
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Errorf("400 events at 10^4/s took %v, want ≥ 30ms", el)
	}
	if st := s.Stats(); st.Packets < 30 {
		t.Errorf("sent %d datagrams, want ≥ 30 (1 ms of events each)", st.Packets)
	}
}
