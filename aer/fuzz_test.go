package aer

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated files in testdata/")

// addSeeds adds every file of testdata/dir to the fuzz corpus.
func addSeeds(f *testing.F, dir string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s (%v); run go test -run TestSeeds -update", dir, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// writeSeed writes b to testdata/dir/name with -update and otherwise checks
// that the stored file still has these bytes (a golden test of the encoder).
func writeSeed(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	path := filepath.Join("testdata", dir, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, b) {
		t.Errorf("%s: stored bytes differ from the encoder's output (run with -update and review)", path)
	}
}

// TestSeeds writes (with -update) or checks the seed packets that the fuzz
// targets start from. EIEIO seeds are SpiNNMan's vectors (see eieioVectors).
func TestSeeds(t *testing.T) {
	for i, v := range eieioVectors {
		writeSeed(t, "eieio", "spinnman-"+string(rune('a'+i))+".bin", unhex(t, v.hex))
	}
	writeSeed(t, "eieio", "start-resume.bin", unhex(t, "0b40"))
	writeSeed(t, "eieio", "sdp-keys.bin", unhex(t, "00 00 07 00 25 00 02 01 00 00 02 08 00 08 00 00 01 08 00 00"))
	evs := []Event{{Time: 1000, Port: 7, Channel: 5, Payload: 1}, {Time: 1003, Port: 7, Channel: 0x10000, Payload: 2}}
	b, _ := AppendNative(nil, 0, 0x01020304, evs)
	writeSeed(t, "native", "two.bin", b)
	b, _ = AppendNative(nil, NativeFlagPayload|NativeFlagMicroseconds, 9, evs)
	writeSeed(t, "native", "payload.bin", b)
	b, _ = AppendNative(nil, 0, 10, nil)
	writeSeed(t, "native", "empty.bin", b)
	writeSeed(t, "spif", "mixed.bin", unhex(t, "02 80 03 80  01 00 01 00  64 00 00 00"))
	writeSeed(t, "jaer", "two.bin", unhex(t, "00 00 00 01  00 00 12 34 00 00 03 e8  00 00 00 07 ff ff ff ff"))
}

func FuzzNative(f *testing.F) {
	addSeeds(f, "native")
	dst := make([]Event, 0, NativeMaxEvents)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, evs, err := DecodeNative(b, dst[:0])
		if err != nil {
			return
		}
		re, n := AppendNative(nil, h.Flags, h.Seq, evs)
		if n != len(evs) {
			t.Fatalf("re-encoded %d of %d events", n, len(evs))
		}
		if len(evs) > 0 && !bytes.Equal(re, b) {
			t.Fatalf("re-encoded\n% x\nwant\n% x", re, b)
		}
	})
}

func FuzzEIEIO(f *testing.F) {
	addSeeds(f, "eieio")
	dst := make([]Event, 0, 256)
	f.Fuzz(func(t *testing.T, b []byte) {
		if sh, payload, err := DecodeSDP(b); err == nil {
			if !bytes.Equal(AppendSDP(nil, sh, payload), b) {
				t.Fatalf("sdp re-encode differs")
			}
		}
		if IsEIEIOCommand(b) {
			c, err := DecodeEIEIOCommand(b)
			if err == nil && !bytes.Equal(AppendEIEIOCommand(nil, c), b) {
				t.Fatalf("command re-encode differs")
			}
			return
		}
		h, evs, err := DecodeEIEIO(b, dst[:0])
		if err != nil {
			return
		}
		evs = append([]Event(nil), evs...)
		re, n := AppendEIEIO(nil, h, evs)
		if n > len(evs) {
			t.Fatalf("encoded %d of %d", n, len(evs))
		}
		h2, evs2, err := DecodeEIEIO(re, nil)
		if err != nil {
			t.Fatalf("re-encoded packet does not decode: %v", err)
		}
		h.Count = uint8(n)
		if h2 != h || !reflect.DeepEqual(evs2, evs[:n]) && n > 0 {
			t.Fatalf("round trip:\n%v %v\n%v %v", h, evs[:n], h2, evs2)
		}
	})
}

func FuzzSPIF(f *testing.F) {
	addSeeds(f, "spif")
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := DecodeSPIF(b, nil)
		if err != nil {
			return
		}
		for i := range evs {
			evs[i].Time = int64(uint32(evs[i].Time))
		}
		got, err := DecodeSPIF(AppendSPIF(nil, evs, true), nil)
		if err != nil || len(evs) > 0 && !reflect.DeepEqual(got, evs) {
			t.Fatalf("round trip: got %v %v, want %v", got, err, evs)
		}
	})
}

func FuzzJAER(f *testing.F) {
	addSeeds(f, "jaer")
	f.Fuzz(func(t *testing.T, b []byte) {
		s, evs, err := DecodeJAER(b, true, nil)
		if err != nil {
			return
		}
		if re := AppendJAER(nil, true, s, evs); !bytes.Equal(re, b) {
			t.Fatalf("re-encoded\n% x\nwant\n% x", re, b)
		}
	})
}
