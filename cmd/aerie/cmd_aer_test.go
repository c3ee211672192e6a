package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aerie-neuro/aerie/aer"
)

// runAerie runs the command line args and returns stdout, stderr and the
// exit code.
func runAerie(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func writeCSV(t *testing.T, path string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("tick,port,channel,payload\n")
	for i := range n {
		fmt.Fprintf(&b, "%d,1,%d,0\n", 100+i/10, i%500)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func inspectJSON(t *testing.T, path string, extra ...string) map[string]any {
	t.Helper()
	out, stderr, code := runAerie(t, append([]string{"inspect", path, "--json"}, extra...)...)
	if code != 0 {
		t.Fatalf("inspect %s: exit %d: %s", path, code, stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, out)
	}
	return m
}

func TestConvertAndInspect(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "in.csv")
	writeCSV(t, csv, 1000)
	for _, out := range []string{"a.aer", "b.csv", "c.aedat", "d.aedat2", "e.aedat4"} {
		path := filepath.Join(dir, out)
		if _, stderr, code := runAerie(t, "convert", csv, path); code != 0 {
			t.Fatalf("convert to %s: exit %d: %s", out, code, stderr)
		}
		m := inspectJSON(t, path)
		if m["events"] != 1000.0 || m["first_tick"] != 100.0 || m["last_tick"] != 199.0 {
			t.Errorf("%s: got events %v first %v last %v, want 1000, 100, 199", out, m["events"], m["first_tick"], m["last_tick"])
		}
	}
	// Bad usage exits 2; a corrupt file exits 1 with the offset.
	if _, _, code := runAerie(t, "convert", csv); code != 2 {
		t.Errorf("convert with one argument: exit %d, want 2", code)
	}
	if _, _, code := runAerie(t, "convert", csv, filepath.Join(dir, "x.bin")); code != 2 {
		t.Errorf("convert to N-MNIST: exit %d, want 2", code)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "a.aer"))
	bad := filepath.Join(dir, "bad.aer")
	os.WriteFile(bad, b[:len(b)-3], 0o644)
	_, stderr, code := runAerie(t, "inspect", bad)
	if code != 1 || !strings.Contains(stderr, "at offset") {
		t.Errorf("inspect truncated file: exit %d, stderr %q", code, stderr)
	}
}

// freePort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("no loopback UDP: %v", err)
	}
	addr := c.LocalAddr().String()
	c.Close()
	return addr
}

func TestSendRecord(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "in.csv")
	writeCSV(t, csv, 5000)
	for _, format := range []string{"native", "eieio", "jaer", "spif"} {
		t.Run(format, func(t *testing.T) {
			addr := freePort(t)
			out := filepath.Join(dir, format+".aer")
			pcap := filepath.Join(dir, format+".pcap")
			type result struct {
				stdout string
				code   int
			}
			done := make(chan result)
			go func() {
				var o, e bytes.Buffer
				code := run(context.Background(), []string{"record", "--listen", addr, "--out", out, "--pcap", pcap,
					"--format", format, "--count", "5000", "--timeout", "10s", "--json"}, &o, &e)
				done <- result{o.String(), code}
			}()
			time.Sleep(100 * time.Millisecond) // let record bind
			if _, stderr, code := runAerie(t, "send", csv, "--to", addr, "--format", format, "--rate", "1e6"); code != 0 {
				t.Fatalf("send: exit %d: %s", code, stderr)
			}
			res := <-done
			if res.code != 0 {
				t.Fatalf("record: exit %d: %s", res.code, res.stdout)
			}
			var rep map[string]any
			json.Unmarshal([]byte(res.stdout), &rep)
			if rep["events"] != 5000.0 || rep["lost"] != 0.0 || rep["malformed"] != 0.0 || rep["stop"] != "count" {
				t.Errorf("record report: %v", rep)
			}
			if m := inspectJSON(t, out); m["events"] != 5000.0 {
				t.Errorf("recorded file: %v events, want 5000", m["events"])
			}
			if m := inspectJSON(t, pcap, "--wire", format); m["events"] != 5000.0 || m["format"] != "pcap" {
				t.Errorf("capture: %v events (%v), want 5000 (pcap)", m["events"], m["format"])
			}
		})
	}
}

func TestRecordTimeoutLeavesValidFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "empty.aer")
	stdout, stderr, code := runAerie(t, "record", "--listen", freePort(t), "--out", out, "--timeout", "100ms", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `"stop": "timeout"`) {
		t.Errorf("report: %s", stdout)
	}
	if m := inspectJSON(t, out); m["events"] != 0.0 {
		t.Errorf("events %v, want 0", m["events"])
	}
}

func TestReplayPcap(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "c.pcap")
	f, _ := os.Create(pcap)
	pw, _ := aer.NewPcapWriter(f)
	t0 := time.Now()
	for i := range 3 {
		pkt, _ := aer.AppendNative(nil, 0, uint32(i), []aer.Event{{Time: int64(i), Channel: 7}})
		pw.WriteDatagram(t0.Add(time.Duration(i)*20*time.Millisecond), nil, &net.UDPAddr{Port: aer.NativePort}, pkt)
	}
	pw.Flush()
	f.Close()
	addr := freePort(t)
	out := filepath.Join(dir, "r.aer")
	done := make(chan int)
	go func() {
		var o, e bytes.Buffer
		done <- run(context.Background(), []string{"record", "--listen", addr, "--out", out, "--count", "3", "--timeout", "10s"}, &o, &e)
	}()
	time.Sleep(100 * time.Millisecond)
	stdout, stderr, code := runAerie(t, "send", pcap, "--to", addr, "--json")
	if code != 0 || !strings.Contains(stdout, `"packets": 3`) {
		t.Fatalf("replay: exit %d: %s %s", code, stdout, stderr)
	}
	if code := <-done; code != 0 {
		t.Fatalf("record exit %d", code)
	}
	if m := inspectJSON(t, out); m["events"] != 3.0 || m["last_tick"] != 2.0 {
		t.Errorf("replayed: %v", m)
	}
}

// TestRecordInterrupt cancels the context, as SIGINT does in main, and
// expects a clean stop with a valid file.
func TestRecordInterrupt(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "int.aedat")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	var o, e bytes.Buffer
	code := run(ctx, []string{"record", "--listen", freePort(t), "--out", out, "--json"}, &o, &e)
	if code != 0 || !strings.Contains(o.String(), `"stop": "interrupt"`) {
		t.Fatalf("exit %d: %s %s", code, o.String(), e.String())
	}
	if m := inspectJSON(t, out); m["events"] != 0.0 || m["format"] != "aedat3" {
		t.Errorf("after interrupt: %v", m)
	}
}

// TestKeyMapSendRecord sends (port 1, channel c) as EIEIO keys 0x800|c and
// maps them back on the receiving side.
func TestKeyMapSendRecord(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "in.csv")
	writeCSV(t, csv, 300)
	addr := freePort(t)
	out := filepath.Join(dir, "k.csv")
	done := make(chan string)
	go func() {
		var o, e bytes.Buffer
		run(context.Background(), []string{"record", "--listen", addr, "--out", out, "--format", "eieio",
			"--keymap", "1=0x800/0xfffff800", "--count", "300", "--timeout", "10s", "--json"}, &o, &e)
		done <- o.String()
	}()
	time.Sleep(100 * time.Millisecond)
	if _, stderr, code := runAerie(t, "send", csv, "--to", addr, "--format", "eieio", "--keymap", "1=0x800/0xfffff800", "--rate", "1e6"); code != 0 {
		t.Fatalf("send: exit %d: %s", code, stderr)
	}
	if rep := <-done; !strings.Contains(rep, `"events": 300`) || strings.Contains(rep, "unmapped") {
		t.Errorf("record report: %s", rep)
	}
	b, _ := os.ReadFile(out)
	if lines := strings.Split(string(b), "\n"); len(lines) < 3 || lines[2] != "0,1,1,0" {
		t.Errorf("recorded CSV starts %q, want the second event as 0,1,1,0 (port 1, channel 1, arriving in the first ms with the first)", lines[:min(3, len(lines))])
	}
}

// aedat3WithFrame writes an AEDAT 3.1 file of one polarity packet and one
// packet of another event type (frames, type 2) that inspect skips.
func aedat3WithFrame(t *testing.T, path string) {
	t.Helper()
	var b bytes.Buffer
	w, err := aer.NewAEDAT3Writer(&b, aer.AEDAT3Polarity)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]aer.Event{{Time: 10, Channel: aer.XY(1, 2), Payload: 1}})
	w.Close()
	frame := make([]byte, 28+8)
	binary.LittleEndian.PutUint16(frame[0:], 2)  // frame events
	binary.LittleEndian.PutUint32(frame[4:], 8)  // event size
	binary.LittleEndian.PutUint32(frame[8:], 4)  // timestamp offset
	binary.LittleEndian.PutUint32(frame[16:], 1) // capacity
	binary.LittleEndian.PutUint32(frame[20:], 1) // number
	binary.LittleEndian.PutUint32(frame[24:], 1) // valid
	b.Write(frame)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestInspectCountsSkippedPackets: AEDAT 3.1 packets of other event types
// are counted in inspect's report (they were skipped without a word).
func TestInspectCountsSkippedPackets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "frame.aedat")
	aedat3WithFrame(t, path)
	if m := inspectJSON(t, path); m["events"] != 1.0 || m["skipped_packets"] != 1.0 {
		t.Errorf("inspect --json: events %v, skipped_packets %v; want 1 and 1", m["events"], m["skipped_packets"])
	}
	stdout, _, _ := runAerie(t, "inspect", path)
	if !strings.Contains(stdout, "skipped   1 packets of other event types") {
		t.Errorf("inspect: %q does not mention the skipped packet", stdout)
	}
}

// TestRecordPcapMax: a capture stops at --pcap-max with a message, and the
// capture it leaves is valid and within the cap.
func TestRecordPcapMax(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "in.csv")
	writeCSV(t, csv, 5000)
	addr := freePort(t)
	pcap := filepath.Join(dir, "cap.pcap")
	type result struct {
		stdout, stderr string
		code           int
	}
	done := make(chan result)
	go func() {
		var o, e bytes.Buffer
		code := run(context.Background(), []string{"record", "--listen", addr, "--pcap", pcap, "--pcap-max", "4KiB", "--timeout", "10s", "--json"}, &o, &e)
		done <- result{o.String(), e.String(), code}
	}()
	time.Sleep(100 * time.Millisecond)
	if _, stderr, code := runAerie(t, "send", csv, "--to", addr, "--rate", "1e6"); code != 0 {
		t.Fatalf("send: exit %d: %s", code, stderr)
	}
	res := <-done
	if res.code != 0 || !strings.Contains(res.stdout, `"stop": "pcap-max"`) || !strings.Contains(res.stderr, "reached --pcap-max 4 KiB; stopped") {
		t.Fatalf("record: exit %d, stdout %s, stderr %s", res.code, res.stdout, res.stderr)
	}
	fi, err := os.Stat(pcap)
	if err != nil || fi.Size() > 4096 || fi.Size() < 1024 {
		t.Fatalf("capture: %v, %v bytes; want at most 4 KiB", err, fi.Size())
	}
	if m := inspectJSON(t, pcap, "--wire", "native"); m["events"].(float64) < 1 {
		t.Errorf("capture holds %v events", m["events"])
	}
}

// TestRecordEIEIOTimes: EIEIO with 32-bit keys carries no time; the
// recording gets arrival times (ticks of 1 ms) instead of 0 for every event.
func TestRecordEIEIOTimes(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "in.csv")
	writeCSV(t, csv, 300)
	addr := freePort(t)
	out := filepath.Join(dir, "e.csv")
	done := make(chan int)
	go func() {
		var o, e bytes.Buffer
		done <- run(context.Background(), []string{"record", "--listen", addr, "--out", out, "--format", "eieio", "--count", "300", "--timeout", "10s"}, &o, &e)
	}()
	time.Sleep(100 * time.Millisecond)
	if _, stderr, code := runAerie(t, "send", csv, "--to", addr, "--format", "eieio", "--eieio", "k32", "--rate", "1e4"); code != 0 {
		t.Fatalf("send: exit %d: %s", code, stderr)
	}
	if code := <-done; code != 0 {
		t.Fatalf("record: exit %d", code)
	}
	// 300 events at 10^4 per second take 30 ms: the last arrives ≥ 20 ticks after the first.
	if m := inspectJSON(t, out); m["first_tick"] != 0.0 || m["last_tick"].(float64) < 20 {
		t.Errorf("recorded times %v .. %v, want 0 .. ≥ 20", m["first_tick"], m["last_tick"])
	}
}

// TestJSONNeverNaN: every command's --json output parses (encoding/json
// refuses NaN and infinities, so a parse proves there are none), on inputs
// made to produce empty, zero-length or silent figures.
func TestJSONNeverNaN(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.csv")
	os.WriteFile(empty, []byte("time_us,port,channel,payload\n"), 0o644)
	one := filepath.Join(dir, "one.csv")
	os.WriteFile(one, []byte("time_us,port,channel,payload\n5,0,1,0\n"), 0o644)
	wide := filepath.Join(dir, "wide.csv")
	os.WriteFile(wide, []byte("time_us,port,channel,payload\n-9223372036854775808,0,1,0\n9223372036854775807,0,2,0\n"), 0o644)
	frame := filepath.Join(dir, "frame.aedat")
	aedat3WithFrame(t, frame)
	// a network that never fires (deterministic, initial weights far too
	// small): rates 0, Fano factor undefined (null), no validation split.
	silent := writeConfig(t, strings.NewReplacer("[train]", "[neuron]\nstochastic = false\n\n[init]\nsigma_u = 0.01\n\n[train]",
		"seed = 2\n", "seed = 2\nsplit = [0.9, 0.0, 0.1]\n").Replace(tinyTrainTOML))
	model := filepath.Join(dir, "silent.aem")
	tests := []struct {
		name string
		args []string
	}{
		{"train", []string{"train", "--config", silent, "--out", model, "--epochs", "1", "--json"}},
		{"train eval", []string{"train", "eval", model, "--fano-trials", "5", "--json"}},
		{"inspect empty", []string{"inspect", empty, "--json"}},
		{"inspect one event", []string{"inspect", one, "--json"}},
		{"inspect int64 span", []string{"inspect", wide, "--json"}},
		{"inspect skipped packets", []string{"inspect", frame, "--json"}},
		{"convert empty", []string{"convert", empty, filepath.Join(dir, "e.aedat4"), "--json"}},
		{"send empty", []string{"send", empty, "--to", "127.0.0.1:9", "--json"}},
		{"send one", []string{"send", one, "--to", "127.0.0.1:9", "--rate", "1", "--json"}},
		{"record nothing", []string{"record", "--listen", "127.0.0.1:0", "--out", filepath.Join(dir, "r.aer"), "--timeout", "1ms", "--json"}},
		{"chip show", []string{"chip", "show", "xylo", "--json"}},
		{"chip list", []string{"chip", "list", "--json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runAerie(t, tc.args...)
			if code != 0 {
				t.Fatalf("%q: exit %d: %s", tc.args, code, stderr)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(stdout), &v); err != nil {
				t.Fatalf("%q: output is not JSON: %v\n%s", tc.args, err, stdout)
			}
			if tc.name == "train eval" {
				if f, _ := v["fano"].([]any); len(f) != 1 || f[0] != nil {
					t.Errorf("fano of a silent layer: %v, want [null]", v["fano"])
				}
			}
		})
	}
}
