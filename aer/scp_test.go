package aer

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

// ipTagRequestHex is the 26-byte IP-tag set request of the run recorded
// in shared/reference/live-io.md: 2 pad bytes; SDP flags 0x87 (reply
// expected), tag 0xFF, destination port 0 CPU 0 (the monitor), source port
// 7 CPU 31, chip (0, 0); cmd 26, seq 1; arg1 0x50010001 (tag 1, set,
// strip SDP, use sender); arg2 port 0 and arg3 address 0 (ignored with use
// sender). Layout from SpiNNMan's iptag_set.py.
const ipTagRequestHex = "0000 87ff 00ff 0000 0000 1a00 0100 01000150 00000000 00000000"

// ipTagReplyHex is the 18-byte reply a client accepts: flags 0x07, tag
// 0xFF, source and destination swapped, rc 0x80, the request's seq, and a
// u32 (aerie puts the tag there).
const ipTagReplyHex = "0000 07ff ff00 0000 0000 8000 0100 01000000"

func TestIPTagRequestBytes(t *testing.T) {
	want := unhex(t, ipTagRequestHex)
	got := AppendSCPRequest(nil, IPTagSetRequest(0, 0, 1, 1, true, true, netip.Addr{}, 0))
	if !bytes.Equal(got, want) {
		t.Fatalf("request\n got % x\nwant % x", got, want)
	}
	r, err := DecodeSCPRequest(want)
	if err != nil {
		t.Fatal(err)
	}
	if r.Cmd != SCPCommandIPTag || r.Seq != 1 || r.NArgs != 3 || r.Args[0] != 0x50010001 || len(r.Data) != 0 {
		t.Errorf("decoded %+v", r)
	}
	tag, err := ParseIPTag(r)
	if err != nil {
		t.Fatal(err)
	}
	if tag != (IPTagRequest{Tag: 1, Subcommand: IPTagSet, StripSDP: true, UseSender: true, Addr: netip.AddrFrom4([4]byte{})}) {
		t.Errorf("ip tag %+v", tag)
	}
	reply := AppendSCPReply(nil, r, SCPResultOK, uint32(tag.Tag))
	if w := unhex(t, ipTagReplyHex); !bytes.Equal(reply, w) {
		t.Fatalf("reply\n got % x\nwant % x", reply, w)
	}
	if len(reply) != 18 {
		t.Errorf("reply is %d bytes, the client expects 18", len(reply))
	}
	rep, err := DecodeSCPReply(reply)
	if err != nil || rep.RC != SCPResultOK || rep.Seq != 1 || rep.SDP.Flags != 0x07 || rep.SDP.Tag != 0xFF {
		t.Errorf("reply decodes to %+v, %v", rep, err)
	}
}

func TestIPTagAddress(t *testing.T) {
	r := IPTagSetRequest(1, 2, 9, 3, true, false, netip.MustParseAddr("127.0.0.1"), 19998)
	got, err := ParseIPTag(mustDecodeSCP(t, AppendSCPRequest(nil, r)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Addr != netip.MustParseAddr("127.0.0.1") || got.Port != 19998 || got.Tag != 3 || got.UseSender || r.Args[2] != 0x0100007f {
		t.Errorf("got %+v (arg3 %#x)", got, r.Args[2])
	}
	if r.SDP.DestX != 1 || r.SDP.DestY != 2 {
		t.Errorf("sdp %+v", r.SDP)
	}
}

func mustDecodeSCP(t *testing.T, b []byte) SCPRequest {
	t.Helper()
	r, err := DecodeSCPRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSCPBad(t *testing.T) {
	good := unhex(t, ipTagRequestHex)
	for name, b := range map[string][]byte{
		"empty":     nil,
		"pad":       append([]byte{1}, good[1:]...),
		"short":     good[:12],
		"oversized": make([]byte, SCPMaxPacket+1),
	} {
		if _, err := DecodeSCPRequest(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", name, err)
		}
	}
	r := mustDecodeSCP(t, good)
	r.Cmd = 17
	if _, err := ParseIPTag(r); err == nil {
		t.Error("ParseIPTag accepted another command")
	}
}

func TestSCPDecodeAllocs(t *testing.T) {
	b := unhex(t, ipTagRequestHex)
	if n := testing.AllocsPerRun(100, func() { DecodeSCPRequest(b) }); n != 0 {
		t.Errorf("DecodeSCPRequest allocates %v times", n)
	}
}

func TestDatabaseNotification(t *testing.T) {
	b := AppendDatabaseNotification(nil, "/tmp/input_output_database.sqlite3")
	if !bytes.HasPrefix(b, []byte{0x01, 0x40}) {
		t.Fatalf("header % x, want 01 40", b[:2])
	}
	p, err := ParseDatabaseNotification(b)
	if err != nil || p != "/tmp/input_output_database.sqlite3" {
		t.Errorf("path %q, %v", p, err)
	}
	if ack := AppendDatabaseNotification(nil, ""); !bytes.Equal(ack, []byte{0x01, 0x40}) {
		t.Errorf("ack % x, want 01 40", ack)
	}
	for name, b := range map[string][]byte{
		"start":   {0x0b, 0x40},
		"nul":     {0x01, 0x40, 'a', 0, 'b'},
		"utf8":    {0x01, 0x40, 0xff},
		"data":    {0x01, 0x00},
		"short":   {0x01},
		"toolong": append([]byte{0x01, 0x40}, bytes.Repeat([]byte{'a'}, MaxDatabasePath+1)...),
	} {
		if _, err := ParseDatabaseNotification(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if EIEIOCommandName(EIEIOCommandStartResume) != "START_RESUME_NOTIFICATION" || EIEIOCommandName(99) != "" {
		t.Error("command names")
	}
}

// FuzzSCP checks that any datagram decodes without panicking, that what
// decodes re-encodes to the same bytes, and that replies always decode.
func FuzzSCP(f *testing.F) {
	f.Add(unhex(f, ipTagRequestHex))
	f.Add(unhex(f, ipTagReplyHex))
	f.Add([]byte{0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeSCPRequest(b)
		if err != nil {
			return
		}
		if got := AppendSCPRequest(nil, r); !bytes.Equal(got, b) {
			t.Fatalf("re-encoded % x, want % x", got, b)
		}
		ParseIPTag(r)
		if _, err := DecodeSCPReply(AppendSCPReply(nil, r, SCPResultOK, 1)); err != nil {
			t.Fatalf("reply does not decode: %v", err)
		}
	})
}

// FuzzDatabaseNotification: no panic; an accepted path re-encodes to b.
func FuzzDatabaseNotification(f *testing.F) {
	f.Add([]byte{0x01, 0x40})
	f.Add(AppendDatabaseNotification(nil, "/tmp/db.sqlite3"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseDatabaseNotification(b)
		if err != nil {
			return
		}
		if got := AppendDatabaseNotification(nil, p); !bytes.Equal(got[2:], b[2:]) || got[0] != b[0] || got[1]&0xC0 != 0x40 {
			t.Fatalf("re-encoded % x, want % x", got, b)
		}
	})
}
