package live

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aerie-neuro/aerie/aer"
)

// liveClient speaks exactly the bytes of SpiNNFrontEndCommon's
// LiveEventConnection (shared/reference/live-io.md): it listens for the
// database notification, asks for the output with an SCP IP-tag set
// (strip SDP, use sender) from its receiving socket until the 18-byte
// reply comes, acknowledges with 01 40, waits for START_RESUME, injects
// spikes as SDP-wrapped EIEIO to the injector core and receives the live
// packet gatherer's NN 38 packets.
type liveClient struct {
	t      *testing.T
	notify *net.UDPConn // the client's port 19999
	recv   *net.UDPConn // its receiving socket
}

func newLiveClient(t *testing.T) *liveClient {
	lc := &liveClient{t: t}
	var err error
	if lc.notify, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Skipf("no loopback UDP: %v", err)
	}
	if lc.recv, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lc.notify.Close(); lc.recv.Close() })
	return lc
}

// read reads one datagram with a timeout.
func read(t *testing.T, c *net.UDPConn, d time.Duration) ([]byte, netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 2048)
	c.SetReadDeadline(time.Now().Add(d))
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return buf[:n], from
}

func TestSpiNNakerLiveHandshake(t *testing.T) {
	sys, prog := relay(t, 64)
	lc := newLiveClient(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "input_output_database.sqlite3")
	srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Format: aer.WireEIEIO, Period: time.Millisecond,
		SpiNNaker: &SpiNNakerConfig{Notify: lc.notify.LocalAddr().String(), Database: dbPath, AckTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.WriteDatabase(dbPath); err != nil {
		t.Fatal(err)
	}
	board := srv.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan Summary, 1)
	go func() {
		sum, err := srv.Run(ctx)
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		done <- sum
	}()

	// 1. the notification: 01 40 + the database path
	msg, toolchain := read(t, lc.notify, 5*time.Second)
	if !bytes.HasPrefix(msg, []byte{0x01, 0x40}) || string(msg[2:]) != dbPath {
		t.Fatalf("notification % x", msg)
	}
	// 2. the client's set-up: read the database, ask for the output
	checkDatabase(t, dir, string(msg[2:]), srv.DatabaseSQL())
	if srv.Snapshot().Ticks != 0 {
		t.Error("ticks before the client acknowledged")
	}
	// a tag pointing at another host is refused (no reflection)
	other := aer.AppendSCPRequest(nil, aer.IPTagSetRequest(0, 0, 6, OutputTag, true, false, netip.MustParseAddr("127.0.0.2"), 4000))
	lc.recv.WriteToUDPAddrPort(other, board)
	if reply, _ := read(t, lc.recv, 2*time.Second); len(reply) != 18 || binary.LittleEndian.Uint16(reply[10:]) != aer.SCPResultArg {
		t.Fatalf("IP tag to another host: reply % x, want rc %#x", reply, aer.SCPResultArg)
	}
	req := aer.AppendSCPRequest(nil, aer.IPTagSetRequest(0, 0, 7, OutputTag, true, true, netip.Addr{}, 0))
	if _, err := lc.recv.WriteToUDPAddrPort(req, board); err != nil {
		t.Fatal(err)
	}
	reply, from := read(t, lc.recv, 2*time.Second)
	if from != board || len(reply) != 18 || reply[2] != 0x07 || reply[3] != 0xFF || binary.LittleEndian.Uint16(reply[10:]) != 0x80 ||
		binary.LittleEndian.Uint16(reply[12:]) != 7 {
		t.Fatalf("SCP reply % x from %v", reply, from)
	}
	// 3. acknowledge from the notification port; 4. START_RESUME comes
	if _, err := lc.notify.WriteToUDPAddrPort([]byte{0x01, 0x40}, toolchain); err != nil {
		t.Fatal(err)
	}
	// (repeats of the notification sent while the client read the
	// database may come first)
	msg, _ = read(t, lc.notify, 5*time.Second)
	for bytes.HasPrefix(msg, []byte{0x01, 0x40}) && len(msg) > 2 {
		msg, _ = read(t, lc.notify, 5*time.Second)
	}
	if !bytes.Equal(msg, []byte{0x0b, 0x40}) {
		t.Fatalf("want START_RESUME 0b 40, got % x", msg)
	}
	// inject: 16-bit atom ids (send_events' default) to the injector core
	// of "in", and full 32-bit keys
	inj := srv.Injectors()[0]
	atoms, _ := aer.AppendEIEIO(aer.AppendSDP(nil, aer.InjectionSDP(inj.X, inj.Y, inj.P), nil), aer.EIEIOHeader{Type: aer.EIEIOKey16},
		[]aer.Event{{Channel: 3}, {Channel: 5}})
	full, _ := aer.AppendEIEIO(aer.AppendSDP(nil, aer.InjectionSDP(inj.X, inj.Y, inj.P), nil), aer.EIEIOHeader{Type: aer.EIEIOKey32},
		[]aer.Event{{Channel: srv.Keys().InputKey(0, 9)}})
	if _, err := lc.recv.WriteToUDPAddrPort(atoms, board); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.recv.WriteToUDPAddrPort(full, board); err != nil {
		t.Fatal(err)
	}
	got := map[uint32]bool{}
	for len(got) < 3 {
		pkt, _ := read(t, lc.recv, 2*time.Second)
		if len(pkt) < 6 || pkt[1] != 0x38 {
			t.Fatalf("output % x is not NN 38 | tick | keys", pkt)
		}
		_, evs, err := aer.DecodeEIEIO(pkt, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			port, atom, ok := srv.Keys().OutputOf(e.Channel)
			if !ok || port != 0 {
				t.Fatalf("key %#x is no output atom", e.Channel)
			}
			got[atom] = true
		}
	}
	if !got[3] || !got[5] || !got[9] {
		t.Errorf("atoms back %v, want 3, 5, 9", got)
	}
	cancel()
	sum := <-done
	// the end: STOP_PAUSE
	if msg, _ := read(t, lc.notify, 2*time.Second); !bytes.Equal(msg, []byte{0x0a, 0x40}) {
		t.Errorf("want STOP_PAUSE 0a 40, got % x", msg)
	}
	sp := sum.SpiNNaker
	if sp == nil || !sp.Acknowledged || !sp.Started || sp.SCPRequests != 2 || len(sp.IPTags) != 1 || sum.EventsIn != 3 || sum.Malformed != 0 {
		t.Errorf("summary %+v, spinnaker %+v", sum, sp)
	}
}

// checkDatabase checks the SQLite file at path (the one the notification
// names) and the SQL script: the file reads back with readSQLite, and,
// when there is a python3 with sqlite3, SQLite opens it, finds it intact
// (PRAGMA integrity_check) and answers the queries of
// SpiNNFrontEndCommon's DatabaseReader that a live client makes; the
// script, loaded into SQLite, answers them the same.
func checkDatabase(t *testing.T, dir, path, sql string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := readSQLite(b)
	if err != nil {
		t.Fatalf("database file: %v", err)
	}
	found := false
	for _, tb := range tables {
		for _, r := range tb.Rows {
			found = found || tb.Name == "label_event_atom_view" && reflect.DeepEqual(r, []any{int64(9), int64(9), "in"})
		}
	}
	if !found || !strings.Contains(sql, "CREATE TABLE label_event_atom_view") || !strings.Contains(sql, "VALUES(9, 9, 'in')") {
		t.Errorf("database file or script lacks the atoms of 'in'")
	}
	py := python3()
	if py == "" {
		t.Log("no python3 with sqlite3: database not opened by SQLite")
		return
	}
	script := filepath.Join(dir, "db.sql")
	os.WriteFile(script, []byte(sql), 0o644)
	prog := `import sqlite3, sys
if sys.argv[1] == "file":
    c = sqlite3.connect(sys.argv[2])
    print(c.execute("PRAGMA integrity_check").fetchall())
else:
    c = sqlite3.connect(":memory:")
    c.executescript(open(sys.argv[2]).read())
    print([("ok",)])
q = lambda s, *a: c.execute(s, a).fetchall()
print(q("SELECT value FROM configuration_parameters WHERE parameter_id = 'machine_time_step'"))
print(q("SELECT * FROM proxy_configuration"))
print(q("SELECT atom, event FROM label_event_atom_view WHERE label = ? AND atom = 9", "in"))
print(q("SELECT event FROM label_event_atom_view WHERE label = ? AND atom = 0", "out"))
print(q("SELECT x, y, p FROM application_vertex_placements WHERE vertex_label = ?", "in"))
print(q("SELECT eth_ip_address FROM chip_eth_info WHERE x = 0 AND y = 0"))
print(q("SELECT port, strip_sdp, board_address, tag, chip_x, chip_y FROM app_output_tag_view WHERE pre_vertex_label = ? AND post_vertex_label LIKE ?", "out", "LiveSpikeReceiver%"))
`
	want := "[('ok',)]\n[(1000.0,)]\n[]\n[(9, 9)]\n[(2147483648,)]\n[(0, 0, 1)]\n[('127.0.0.1',)]\n[(0, 1, '127.0.0.1', 1, 0, 0)]\n"
	for _, c := range [][2]string{{"file", path}, {"script", script}} {
		out, err := exec.Command(py, "-c", prog, c[0], c[1]).CombinedOutput()
		if err != nil {
			t.Fatalf("python3 sqlite3 (%s): %v\n%s", c[0], err, out)
		}
		if string(out) != want {
			t.Errorf("queries on the %s gave\n%s\nwant\n%s", c[0], out, want)
		}
	}
}
