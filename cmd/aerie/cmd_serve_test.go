package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// compileRelay compiles examples/networks/relay.toml into dir.
func compileRelay(t *testing.T, dir string) string {
	t.Helper()
	img := filepath.Join(dir, "relay.img")
	if _, stderr, code := runAerie(t, "compile", "../../examples/networks/relay.toml", "-o", img); code != 0 {
		t.Fatalf("compile: exit %d: %s", code, stderr)
	}
	return img
}

// serveProc is aerie serve running in a goroutine, stopped by cancelling
// its context as SIGINT does.
type serveProc struct {
	cancel context.CancelFunc
	done   chan struct{}
	stdout bytes.Buffer
	stderr bytes.Buffer
	code   int
}

func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &serveProc{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.code = run(ctx, append([]string{"serve"}, args...), &p.stdout, &p.stderr)
	}()
	t.Cleanup(func() { p.stop(t) })
	time.Sleep(150 * time.Millisecond) // let it bind
	return p
}

// stop interrupts serve and returns its JSON summary.
func (p *serveProc) stop(t *testing.T) map[string]any {
	t.Helper()
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if p.code != 0 {
		t.Fatalf("serve: exit %d: %s", p.code, p.stderr.String())
	}
	var m map[string]any
	if p.stdout.Len() > 0 {
		if err := json.Unmarshal(p.stdout.Bytes(), &m); err != nil {
			t.Fatalf("serve --json: %v\n%s", err, p.stdout.String())
		}
	}
	return m
}

// relayCSV writes n events: channel i%64 at tick 10 + i/8 (port 0).
func relayCSV(t *testing.T, path string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("tick,port,channel,payload\n")
	for i := range n {
		fmt.Fprintf(&b, "%d,0,%d,0\n", 10+i/8, i%64)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestServeRelayLive is the test: serve on loopback with the relay
// image; spikes go in with aerie send (native, then EIEIO); aerie record
// receives every expected output spike; the counters agree.
func TestServeRelayLive(t *testing.T) {
	dir := t.TempDir()
	img := compileRelay(t, dir)
	const n = 2000
	in := filepath.Join(dir, "in.csv")
	relayCSV(t, in, n)
	for _, tc := range []struct {
		format   string
		send     []string
		record   []string
		channels string
	}{
		{"native", nil, nil, ""},
		// keys = port 0 base 0 | channel, with the tick as payload prefix; outputs come back as 0x80000000 | channel
		{"eieio", []string{"--eieio", "lpg", "--keymap", "0=0x0/0xffff0000"}, []string{"--keymap", "0=0x80000000/0xffff0000"}, ""},
	} {
		t.Run(tc.format, func(t *testing.T) {
			listen, recAddr := freePort(t), freePort(t)
			out := filepath.Join(dir, tc.format+".csv")
			recDone := make(chan string, 1)
			go func() {
				var o, e bytes.Buffer
				code := run(context.Background(), append([]string{"record", "--listen", recAddr, "--out", out, "--format", tc.format,
					"--count", fmt.Sprint(n), "--timeout", "15s", "--json"}, tc.record...), &o, &e)
				recDone <- fmt.Sprintf("%d %s %s", code, o.String(), e.String())
			}()
			// --idle 0: only the stamps move time, so that none is late
			// however long the sender takes to start; the last ticks run
			// when serve is interrupted (it drains its queue).
			srv := startServe(t, "--image", img, "--listen", listen, "--to", recAddr, "--format", tc.format, "--fast", "--idle", "0", "--json")
			if _, stderr, code := runAerie(t, append([]string{"send", in, "--to", listen, "--format", tc.format, "--rate", "2e5"}, tc.send...)...); code != 0 {
				t.Fatalf("send: exit %d: %s", code, stderr)
			}
			time.Sleep(100 * time.Millisecond)
			sum := srv.stop(t)
			rec := <-recDone
			if !strings.HasPrefix(rec, "0 ") {
				t.Fatalf("record: %s", rec)
			}
			hasKeys(t, "serve", sum, "ticks", "events_in", "events_out", "late", "dropped", "malformed", "refused", "tick_p99_us", "overruns", "keys")
			for k, want := range map[string]float64{"events_in": n, "events_applied": n, "events_out": n, "dropped": 0, "malformed": 0, "refused": 0, "late": 0} {
				if sum[k] != want {
					t.Errorf("serve %s = %v, want %v", k, sum[k], want)
				}
			}
			// every input (c, t) is an output (c, t+1)
			m := inspectJSON(t, out)
			if m["events"] != float64(n) || m["first_tick"] != 11.0 || m["last_tick"] != float64(10+(n-1)/8+1) {
				t.Errorf("recorded %v events, ticks %v…%v; want %d, 11…%d", m["events"], m["first_tick"], m["last_tick"], n, 10+(n-1)/8+1)
			}
		})
	}
}

// TestServeGracefulShutdownRecording interrupts a real-time server in the
// middle of traffic: the recording and the capture are complete, valid
// files, and the summary counts what they hold.
func TestServeGracefulShutdownRecording(t *testing.T) {
	dir := t.TempDir()
	img := compileRelay(t, dir)
	in := filepath.Join(dir, "in.csv")
	relayCSV(t, in, 4000)
	listen := freePort(t)
	rec, pcap := filepath.Join(dir, "out.aedat"), filepath.Join(dir, "serve.pcap")
	srv := startServe(t, "--image", img, "--listen", listen, "--tick", "1ms", "--input-time", "arrival",
		"--record", rec, "--pcap", pcap, "--json")
	// 4000 events at 40k events/s: 100 ms of traffic, interrupted after 50
	go runAerie(t, "send", in, "--to", listen, "--rate", "4e4")
	time.Sleep(50 * time.Millisecond)
	sum := srv.stop(t)
	if sum["stop"] != "interrupt" {
		t.Errorf("stop %v", sum["stop"])
	}
	m := inspectJSON(t, rec)
	if m["format"] != "aedat3" || m["events"] != sum["events_out"] || sum["events_out"].(float64) == 0 {
		t.Errorf("recording %v (%v events), serve says %v events out", m["format"], m["events"], sum["events_out"])
	}
	if c := inspectJSON(t, pcap, "--wire", "native"); c["format"] != "pcap" || c["events"].(float64) < sum["events_in"].(float64) {
		t.Errorf("capture: %v events, serve received %v", c["events"], sum["events_in"])
	}
	time.Sleep(100 * time.Millisecond) // let the sender finish before the temp dir goes
}

// TestServeFastDeterminism: the same input file through fast mode gives
// the same output file, byte for byte.
func TestServeFastDeterminism(t *testing.T) {
	dir := t.TempDir()
	img := compileRelay(t, dir)
	in := filepath.Join(dir, "in.csv")
	relayCSV(t, in, 3000)
	var outs [2][]byte
	for i := range outs {
		listen := freePort(t)
		rec := filepath.Join(dir, fmt.Sprintf("out%d.aer", i))
		srv := startServe(t, "--image", img, "--listen", listen, "--fast", "--idle", "0", "--record", rec, "--json")
		if _, stderr, code := runAerie(t, "send", in, "--to", listen, "--rate", "2e5"); code != 0 {
			t.Fatalf("send: %s", stderr)
		}
		time.Sleep(200 * time.Millisecond)
		sum := srv.stop(t)
		if sum["events_in"] != 3000.0 || sum["events_out"] != 3000.0 {
			t.Fatalf("run %d: in %v out %v, want 3000", i, sum["events_in"], sum["events_out"])
		}
		var err error
		if outs[i], err = os.ReadFile(rec); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Errorf("fast mode gave different recordings (%d and %d bytes)", len(outs[0]), len(outs[1]))
	}
}

// TestServeSendPoisson: aerie send --poisson feeds a server; --json
// reports packets and events, which the server counts.
func TestServeSendPoisson(t *testing.T) {
	dir := t.TempDir()
	img := compileRelay(t, dir)
	listen := freePort(t)
	srv := startServe(t, "--image", img, "--listen", listen, "--fast", "--json")
	var o, e bytes.Buffer
	code := run(context.Background(), []string{"send", "--poisson", "500", "--channels", "64", "--duration", "200ms", "--burst",
		"--to", listen, "--start-tick", "5", "--json"}, &o, &e)
	if code != 0 {
		t.Fatalf("send --poisson: exit %d: %s", code, e.String())
	}
	rep := jsonOf(t, o.String())
	ev := rep["events"].(float64)
	// 500 Hz × 64 channels × 0.2 s = 6400 expected
	if ev < 6000 || ev > 6800 || rep["packets"].(float64) < ev/181 {
		t.Errorf("send report %v", rep)
	}
	time.Sleep(100 * time.Millisecond)
	sum := srv.stop(t)
	if sum["events_in"] != ev || sum["dropped"] != 0.0 {
		t.Errorf("serve got %v events (%v dropped), send sent %v", sum["events_in"], sum["dropped"], ev)
	}
}

// TestServeSpiNNakerLiveFlags: --spinnaker-live writes the database (an
// SQLite file, and the SQL script with --database-sql) and waits for the
// client; without one it starts after the acknowledgement timeout.
func TestServeSpiNNakerLiveFlags(t *testing.T) {
	dir := t.TempDir()
	img := compileRelay(t, dir)
	db := filepath.Join(dir, "db.sql")
	dbFile := filepath.Join(dir, "db.sqlite3")
	out, stderr, code := runAerie(t, "serve", "--image", img, "--spinnaker-live", "--listen", freePort(t), "--notify", freePort(t),
		"--database", dbFile, "--database-sql", db, "--ack-timeout", "100ms", "--duration", "300ms", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sum := jsonOf(t, out)
	sp, _ := sum["spinnaker"].(map[string]any)
	if sp == nil || sp["acknowledged"] != false || sp["started"] != true || sum["ticks"].(float64) == 0 {
		t.Errorf("summary %v", sum)
	}
	if b, err := os.ReadFile(db); err != nil || !bytes.Contains(b, []byte("CREATE TABLE app_output_tag_view")) {
		t.Errorf("database script: %v", err)
	}
	if b, err := os.ReadFile(dbFile); err != nil || !bytes.HasPrefix(b, []byte("SQLite format 3\x00")) ||
		!bytes.Contains(b, []byte("CREATE TABLE app_output_tag_view")) || sp["database"] != dbFile {
		t.Errorf("database file: %v; summary database %v", err, sp["database"])
	}
	// without --database: aerie-<image>.sqlite3 in the temporary directory
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	if _, stderr, code := runAerie(t, "serve", "--image", img, "--spinnaker-live", "--listen", freePort(t), "--notify", freePort(t),
		"--ack-timeout", "50ms", "--duration", "100ms"); code != 0 || !strings.Contains(stderr, filepath.Join(tmp, "aerie-relay.sqlite3")) {
		t.Errorf("default database: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(tmp, "aerie-relay.sqlite3")); err != nil || !bytes.HasPrefix(b, []byte("SQLite format 3\x00")) {
		t.Errorf("default database file: %v", err)
	}
	if _, _, code := runAerie(t, "serve", "--image", img, "--notify", "127.0.0.1:1"); code != 2 {
		t.Errorf("--notify without --spinnaker-live: exit %d, want 2", code)
	}
}

// TestServeBadFlags: usage errors exit 2 before anything binds.
func TestServeBadFlags(t *testing.T) {
	dir := t.TempDir()
	img := compileRelay(t, dir)
	for _, args := range [][]string{
		{},
		{"--image", img, "--fast", "--tick", "1ms"},
		{"--image", img, "--late", "sometimes"},
		{"--image", img, "--allow", "not-an-address"},
		{"--image", img, "--format", "morse"},
		{"--image", img, "--record-max", "lots"},
		{"--image", img, "--input-time", "never"},
	} {
		if _, _, code := runAerie(t, append([]string{"serve"}, args...)...); code != 2 {
			t.Errorf("serve %q: exit %d, want 2", args, code)
		}
	}
	if _, stderr, code := runAerie(t, "serve", "--image", img, "--listen", ":7433", "--ticks", "1"); code != 1 || !strings.Contains(stderr, "names no host") {
		t.Errorf("listen without a host: exit %d, %s", code, stderr)
	}
}

// TestServeLivePythonClient runs examples/clients/aerie_client.py (only
// the Python standard library) against a real-time server that replies to
// its senders.
func TestServeLivePythonClient(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	dir := t.TempDir()
	img := compileRelay(t, dir)
	listen := freePort(t)
	srv := startServe(t, "--image", img, "--listen", listen, "--tick", "1ms", "--reply", "--json")
	host, port, _ := strings.Cut(listen, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "../../examples/clients/aerie_client.py", "--host", host, "--port", port,
		"--channels", "0,5,63", "--repeat", "3", "--timeout", "5").CombinedOutput()
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	for _, want := range []string{"port 0 channel 0", "port 0 channel 5", "port 0 channel 63", "received 9 spikes"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("client output lacks %q:\n%s", want, out)
		}
	}
	if sum := srv.stop(t); sum["events_in"] != 9.0 || sum["events_out"] != 9.0 {
		t.Errorf("serve: in %v out %v, want 9", sum["events_in"], sum["events_out"])
	}
}
