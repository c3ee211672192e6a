package aer

import (
	"encoding/binary"
	"net/netip"
)

// SpiNNaker Command Protocol (SCP) over SDP, the part a live client uses:
// the IP-tag "set" request that points a board's output at the client's
// socket, and its reply. From SpiNNMan (messages/scp/impl/iptag_set.py,
// messages/scp/scp_request_header.py) and SCAMP; bytes checked end to end
// against sPyNNaker's LiveEventConnection (see docs/live.md).
//
// An SCP request on UDP port 17893, little-endian:
//
//	 0    2                                        10      12      14      18      22      26
//	+----+----------------------------------------+-------+-------+-------+-------+-------+------+
//	| 00 | SDP header (8 bytes, see SDPHeader)    | cmd   | seq   | arg1  | arg2  | arg3  | data |
//	| 00 | flags tag dport|cpu sport|cpu dy dx sy sx | u16 | u16   | u32   | u32   | u32   |      |
//	+----+----------------------------------------+-------+-------+-------+-------+-------+------+
//
// Requests carry 0 to 3 arguments (the command says how many; the IP-tag
// request carries 3). A reply swaps the SDP source and destination, has
// flags 0x07 and tag 0xFF, and puts the result code where cmd was:
//
//	| 00 00 | SDP header | rc u16 (0x80 OK) | seq u16 | arg1 u32 ... |
//
// IP-tag set (cmd 26): arg1 = use_sender<<30 | strip_sdp<<28 |
// subcommand<<16 | tag (subcommand 1 = set), arg2 = UDP port, arg3 = IPv4
// address as a little-endian u32 of its bytes (a.b.c.d → d<<24|c<<16|b<<8|a).
// With use_sender set the board ignores arg2 and arg3 and sends to the
// request's source address, which is how a client behind NAT (or one that
// does not know its own address) asks for output.

// SCP commands and result codes used by live I/O.
const (
	SCPCommandIPTag uint16 = 26   // CMD_IPTAG
	SCPResultOK     uint16 = 0x80 // RC_OK
	// SCPResultArg is SCAMP's "bad argument" code, the answer to an
	// IP-tag request aerie cannot honour.
	SCPResultArg uint16 = 0x83

	IPTagSet   = 1 // IP-tag subcommand "set" (arg1 bits 19..16)
	IPTagGet   = 2
	IPTagClear = 3

	// SCPMaxPacket bounds an SCP datagram: pad, SDP header, cmd, seq, three
	// arguments and 256 bytes of data (the SDP data limit).
	SCPMaxPacket = SDPLen + 16 + 256

	// SDPPortSCP and SDPPortEIEIO are the SDP destination ports of the
	// traffic into a board: SCP commands to the monitor, EIEIO data to an
	// injector core.
	SDPPortSCP   = 0
	SDPPortEIEIO = 1

	sdpFlagsReply   = 0x07 // "no reply expected", on replies
	sdpFlagsRequest = 0x87 // "reply expected", on SCP requests
	sdpTagReply     = 0xFF
)

// SCPRequest is a decoded SCP request. Data aliases the decoded bytes.
type SCPRequest struct {
	SDP   SDPHeader
	Cmd   uint16
	Seq   uint16
	NArgs int // arguments present (0..3)
	Args  [3]uint32
	Data  []byte
}

// DecodeSCPRequest decodes an SCP request datagram (with its 2 pad bytes
// and SDP header). Arguments are read as long as 4 bytes remain, at most
// 3; what is left is Data. It never allocates.
func DecodeSCPRequest(b []byte) (SCPRequest, error) {
	var r SCPRequest
	if len(b) > SCPMaxPacket {
		return r, corrupt("scp", SCPMaxPacket, "datagram of %d bytes exceeds %d", len(b), SCPMaxPacket)
	}
	h, body, err := DecodeSDP(b)
	if err != nil {
		return r, err
	}
	r.SDP = h
	if len(body) < 4 {
		return r, truncated("scp", int64(len(b)), "command and sequence need 4 bytes, have %d", len(body))
	}
	r.Cmd = binary.LittleEndian.Uint16(body)
	r.Seq = binary.LittleEndian.Uint16(body[2:])
	body = body[4:]
	for r.NArgs < 3 && len(body) >= 4 {
		r.Args[r.NArgs] = binary.LittleEndian.Uint32(body)
		r.NArgs++
		body = body[4:]
	}
	r.Data = body
	return r, nil
}

// AppendSCPRequest appends the request r (pad bytes, SDP header, cmd, seq,
// the first NArgs arguments, Data).
func AppendSCPRequest(dst []byte, r SCPRequest) []byte {
	dst = AppendSDP(dst, r.SDP, nil)
	dst = binary.LittleEndian.AppendUint16(dst, r.Cmd)
	dst = binary.LittleEndian.AppendUint16(dst, r.Seq)
	for i := 0; i < r.NArgs && i < 3; i++ {
		dst = binary.LittleEndian.AppendUint32(dst, r.Args[i])
	}
	return append(dst, r.Data...)
}

// SCPReply is a decoded SCP reply.
type SCPReply struct {
	SDP   SDPHeader
	RC    uint16
	Seq   uint16
	NArgs int
	Args  [3]uint32
	Data  []byte
}

// AppendSCPReply appends the reply to req with result code rc and the
// given arguments: the SDP header swapped (the reply goes back to the
// request's source), flags 0x07, tag 0xFF.
func AppendSCPReply(dst []byte, req SCPRequest, rc uint16, args ...uint32) []byte {
	h := req.SDP
	rh := SDPHeader{Flags: sdpFlagsReply, Tag: sdpTagReply,
		DestPort: h.SrcPort, DestCPU: h.SrcCPU, SrcPort: h.DestPort, SrcCPU: h.DestCPU,
		DestY: h.SrcY, DestX: h.SrcX, SrcY: h.DestY, SrcX: h.DestX}
	dst = AppendSDP(dst, rh, nil)
	dst = binary.LittleEndian.AppendUint16(dst, rc)
	dst = binary.LittleEndian.AppendUint16(dst, req.Seq)
	for _, a := range args {
		dst = binary.LittleEndian.AppendUint32(dst, a)
	}
	return dst
}

// DecodeSCPReply decodes an SCP reply datagram; it is the request layout
// with the result code in place of the command.
func DecodeSCPReply(b []byte) (SCPReply, error) {
	r, err := DecodeSCPRequest(b)
	if err != nil {
		return SCPReply{}, err
	}
	return SCPReply{SDP: r.SDP, RC: r.Cmd, Seq: r.Seq, NArgs: r.NArgs, Args: r.Args, Data: r.Data}, nil
}

// IPTagRequest is the meaning of a CMD_IPTAG request's arguments.
type IPTagRequest struct {
	Tag        uint8 // low 8 bits of arg1 (SCAMP has tags 0..7 on the Ethernet chip)
	Subcommand uint8 // IPTagSet, IPTagGet, IPTagClear, ...
	StripSDP   bool  // bit 28: send the payload without its SDP header
	UseSender  bool  // bit 30: send to the request's source address
	Port       uint16
	Addr       netip.Addr // IPv4 from arg3
}

// ParseIPTag reads the arguments of a CMD_IPTAG request.
func ParseIPTag(r SCPRequest) (IPTagRequest, error) {
	if r.Cmd != SCPCommandIPTag {
		return IPTagRequest{}, corrupt("scp", 10, "command %d is not CMD_IPTAG (%d)", r.Cmd, SCPCommandIPTag)
	}
	if r.NArgs < 1 {
		return IPTagRequest{}, truncated("scp", 14, "CMD_IPTAG without arguments")
	}
	a1 := r.Args[0]
	t := IPTagRequest{Tag: uint8(a1), Subcommand: uint8(a1 >> 16 & 0xF), StripSDP: a1>>28&1 != 0, UseSender: a1>>30&1 != 0}
	if r.NArgs >= 2 {
		t.Port = uint16(r.Args[1])
	}
	if r.NArgs >= 3 {
		a3 := r.Args[2]
		t.Addr = netip.AddrFrom4([4]byte{byte(a3), byte(a3 >> 8), byte(a3 >> 16), byte(a3 >> 24)})
	}
	return t, nil
}

// IPTagSetRequest builds the request SpiNNMan's IPTagSet sends to point tag
// at addr:port on the board chip (x, y), or at the request's sender if
// useSender.
func IPTagSetRequest(x, y uint8, seq uint16, tag uint8, strip, useSender bool, addr netip.Addr, port uint16) SCPRequest {
	a1 := uint32(IPTagSet)<<16 | uint32(tag)
	if strip {
		a1 |= 1 << 28
	}
	if useSender {
		a1 |= 1 << 30
	}
	var a3 uint32
	if addr.Is4() {
		ip := addr.As4()
		a3 = uint32(ip[3])<<24 | uint32(ip[2])<<16 | uint32(ip[1])<<8 | uint32(ip[0])
	}
	return SCPRequest{
		SDP: SDPHeader{Flags: sdpFlagsRequest, Tag: sdpTagReply, DestPort: SDPPortSCP, DestCPU: 0,
			SrcPort: 7, SrcCPU: 31, DestY: y, DestX: x},
		Cmd: SCPCommandIPTag, Seq: seq, NArgs: 3, Args: [3]uint32{a1, uint32(port), a3},
	}
}
