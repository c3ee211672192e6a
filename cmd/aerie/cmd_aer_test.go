package main

import (
	"bytes"
	"context"
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
		t.Errorf("recorded CSV starts %q, want the second event as 0,1,1,0 (port 1, channel 1, EIEIO carries no time)", lines[:min(3, len(lines))])
	}
}
