package aer

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// reportEvents reports events per second and nanoseconds per event, in
// wall time and in process CPU time since cpu0 (see processCPU).
func reportEvents(b *testing.B, perOp int, cpu0 time.Duration) {
	b.Helper()
	total := float64(b.N) * float64(perOp)
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(total/s, "events/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/event")
	}
	if cpu := processCPU() - cpu0; cpu0 > 0 && cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/event")
	}
}

func benchEvents(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{Time: 1000 + int64(i/4), Channel: uint32(i * 37), Port: 2}
	}
	return evs
}

func BenchmarkDecodeNative(b *testing.B) {
	evs := benchEvents(NativeMaxEvents)
	pkt, _ := AppendNative(nil, 0, 1, evs)
	dst := make([]Event, 0, NativeMaxEvents)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		DecodeNative(pkt, dst)
	}
	reportEvents(b, len(evs), cpu0)
}

func BenchmarkEncodeNative(b *testing.B) {
	evs := benchEvents(NativeMaxEvents)
	buf := make([]byte, 0, NativeMaxPacket)
	b.SetBytes(int64(NativeHeaderLen + 8*len(evs)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		AppendNative(buf, 0, 1, evs)
	}
	reportEvents(b, len(evs), cpu0)
}

func BenchmarkDecodeEIEIO(b *testing.B) {
	evs := benchEvents(63)
	pkt, _ := AppendEIEIO(nil, EIEIOHeader{Type: EIEIOKey32}, evs)
	dst := make([]Event, 0, 256)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		DecodeEIEIO(pkt, dst)
	}
	reportEvents(b, len(evs), cpu0)
}

func BenchmarkEncodeEIEIO(b *testing.B) {
	evs := benchEvents(63)
	buf := make([]byte, 0, EIEIOMaxPacket)
	b.SetBytes(254)
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		AppendEIEIO(buf, EIEIOHeader{Type: EIEIOKey32}, evs)
	}
	reportEvents(b, len(evs), cpu0)
}

// BenchmarkReadNativeFile reads a 1,000,000-event native file from memory.
func BenchmarkReadNativeFile(b *testing.B) {
	const n = 1_000_000
	var buf bytes.Buffer
	w, _ := NewFileWriter(&buf, Tick)
	w.Write(benchEvents(n))
	w.Close()
	data := buf.Bytes()
	dst := make([]Event, 8192)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		r, err := NewFileReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			k, err := r.Read(dst)
			got += k
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if got != n {
			b.Fatalf("read %d events, want %d", got, n)
		}
	}
	reportEvents(b, n, cpu0)
}

// BenchmarkUDPLoopback sends native packets over 127.0.0.1 from one
// goroutine to a receiver in another, paced at the rate given by the
// sub-benchmark, and reports the received event rate and the loss. The
// target (≥ 5×10⁶ events/s with no loss when paced) is for a sender and a
// receiver in separate processes; see docs/formats.md for the command-line
// measurement.
func BenchmarkUDPLoopback(b *testing.B) {
	for _, rate := range []float64{5e6, 1e7, 0} {
		name := "unpaced"
		if rate > 0 {
			name = "paced" + formatRate(rate)
		}
		b.Run(name, func(b *testing.B) {
			rx, tx := loopback(b)
			r, _ := NewReceiver(rx, ReceiverConfig{})
			s, _ := NewSender(tx, rx.LocalAddr(), SenderConfig{Rate: rate})
			evs := benchEvents(NativeMaxEvents * DefaultBatch)
			const perOp = NativeMaxEvents * DefaultBatch
			got := make(chan uint64)
			go func() {
				buf := make([]Event, 1<<14)
				var total uint64
				for {
					rx.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
					n, err := r.Read(buf)
					total += uint64(n)
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						got <- total
						return
					}
				}
			}()
			b.ReportAllocs()
			for b.Loop() {
				s.Write(evs)
			}
			s.Close()
			elapsed := b.Elapsed()
			total := <-got
			sent := float64(b.N) * perOp
			b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
			b.ReportMetric(100*(1-float64(total)/sent), "%lost")
			st := r.Stats()
			b.ReportMetric(float64(st.Lost), "lost-pkts")
		})
	}
}

func formatRate(r float64) string {
	switch {
	case r >= 1e6:
		return itoa(int(r/1e6)) + "M"
	case r >= 1e3:
		return itoa(int(r/1e3)) + "k"
	}
	return itoa(int(r))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
