package aer_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/aerie-neuro/aerie/aer"
)

// A native packet carries events of one port; decoding appends to a slice
// the caller owns and does not allocate when it has room.
func ExampleDecodeNative() {
	evs := []aer.Event{{Time: 1000, Port: 2, Channel: 5}, {Time: 1003, Port: 2, Channel: 7}}
	pkt, n := aer.AppendNative(nil, 0, 42, evs)
	h, got, err := aer.DecodeNative(pkt, make([]aer.Event, 0, aer.NativeMaxEvents))
	fmt.Println(len(pkt), n, h.Seq, h.Port, err)
	fmt.Println(got)
	// Output:
	// 36 2 42 2 <nil>
	// [{1000 5 0 2} {1003 7 0 2}]
}

// The live packet gatherer's default packet: a timestep prefix and 32-bit
// keys (bytes from SpiNNMan).
func ExampleDecodeEIEIO() {
	pkt := []byte{0x03, 0x38, 0xe8, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x0f, 0x08, 0x00, 0x00}
	h, evs, err := aer.DecodeEIEIO(pkt, nil)
	fmt.Println(h.Type == aer.EIEIOKey32, h.Timestamp, err)
	for _, e := range evs {
		fmt.Printf("tick %d key %#x\n", e.Time, e.Channel)
	}
	// Output:
	// true true <nil>
	// tick 1000 key 0x800
	// tick 1000 key 0x801
	// tick 1000 key 0x80f
}

// Files: write with OpenWriter, read with OpenReader (the format is
// detected from the content).
func ExampleOpenReader() {
	var file bytes.Buffer
	w, _ := aer.OpenWriter(&file, aer.FormatNative, aer.Tick, aer.WriteOptions{})
	w.Write([]aer.Event{{Time: 1, Channel: 3}, {Time: 2, Channel: 4}})
	w.Close()

	r, format, err := aer.OpenReader(&file, aer.FormatUnknown, aer.ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]aer.Event, 16)
	n, _ := r.Read(buf)
	_, err = r.Read(buf[n:])
	fmt.Println(format, r.Unit(), buf[:n], err == io.EOF)
	// Output: native tick [{1 3 0 0} {2 4 0 0}] true
}

// Keys as sPyNNaker allocates them: port 1 owns 0x800..0xfff.
func ExampleKeyMap() {
	m, _ := aer.ParseKeyMap("1=0x800/0xfffff800")
	key, _ := m.Key(1, 15)
	port, channel, ok := m.Lookup(0x80f)
	fmt.Printf("%#x %d %d %v\n", key, port, channel, ok)
	// Output: 0x80f 1 15 true
}
