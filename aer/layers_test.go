package aer

import (
	"bytes"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// frame wraps payload in Ethernet/IPv4/UDP headers to dstPort.
func frame(t testing.TB, dstPort int, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
	udp := &layers.UDP{SrcPort: 40000, DstPort: layers.UDPPort(dstPort)}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLayersDecodeByPort(t *testing.T) {
	native, _ := AppendNative(nil, 0, 3, []Event{{Channel: 1}, {Channel: 2}})
	tests := []struct {
		name    string
		port    int
		payload []byte
		want    gopacket.LayerType
		events  int
	}{
		{"native", NativePort, native, LayerTypeNative, 2},
		{"eieio commands", SpiNNakerNotificationPort, unhex(t, "0b40"), LayerTypeEIEIO, 0},
		{"sdp injection", SpiNNakerSCPPort, unhex(t, "00 00 07 00 25 00 02 01 00 00 02 08 00 08 00 00 01 08 00 00"), LayerTypeEIEIO, 2},
		{"spif", SPIFPort, unhex(t, "02 80 03 80  01 00 01 00  64 00 00 00"), LayerTypeSPIF, 2},
		{"jaer", JAERPort, unhex(t, "00 00 00 01  00 00 12 34 00 00 03 e8"), LayerTypeJAER, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := gopacket.NewPacket(frame(t, tc.port, tc.payload), layers.LayerTypeEthernet, gopacket.Default)
			if el := p.ErrorLayer(); el != nil {
				t.Fatalf("decode error: %v", el.Error())
			}
			l := p.Layer(tc.want)
			if l == nil {
				t.Fatalf("no %v layer in %v", tc.want, p)
			}
			var n int
			switch l := l.(type) {
			case *NativeLayer:
				n = len(l.Events)
			case *EIEIOLayer:
				n = len(l.Events)
			case *SPIFLayer:
				n = len(l.Events)
			case *JAERLayer:
				n = len(l.Events)
			}
			if n != tc.events {
				t.Errorf("events: got %d, want %d", n, tc.events)
			}
			if p.ApplicationLayer() == nil {
				t.Errorf("no application layer")
			}
		})
	}
}

func TestLayersSerialize(t *testing.T) {
	evs := []Event{{Time: 10, Channel: 0x800, Payload: 1}, {Time: 12, Channel: 0x801, Payload: 0}}
	tests := []struct {
		name  string
		layer []gopacket.SerializableLayer
		want  []byte
	}{
		{"native", []gopacket.SerializableLayer{&NativeLayer{NativeHeader: NativeHeader{Seq: 4, Flags: NativeFlagPayload}, Events: evs}},
			func() []byte { b, _ := AppendNative(nil, NativeFlagPayload, 4, evs); return b }()},
		{"sdp+eieio", []gopacket.SerializableLayer{&SDPLayer{SDPHeader: InjectionSDP(1, 2, 5)}, &EIEIOLayer{Header: EIEIOHeader{Type: EIEIOKey32}, Events: evs}},
			unhex(t, "00 00 07 00 25 00 02 01 00 00 02 08 00 08 00 00 01 08 00 00")},
		{"command", []gopacket.SerializableLayer{&EIEIOLayer{IsCommand: true, Command: EIEIOCommand{ID: 11}}}, unhex(t, "0b40")},
		{"jaer", []gopacket.SerializableLayer{&JAERLayer{Seq: 1, Events: evs[:1]}}, unhex(t, "00000001 00000800 0000000a")},
		{"spif", []gopacket.SerializableLayer{&SPIFLayer{Events: []Event{{Channel: XY(3, 2), Payload: 1}}}}, unhex(t, "02800380")},
	}
	for _, tc := range tests {
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, tc.layer...); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := buf.Bytes(); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got % x, want % x", tc.name, got, tc.want)
		}
	}
}

// TestLayerParserZeroAlloc decodes a full Ethernet/IPv4/UDP/EIEIO frame
// with a DecodingLayerParser, as a capture tool's hot path would.
func TestLayerParserZeroAlloc(t *testing.T) {
	evs := make([]Event, 63)
	pkt, _ := AppendEIEIO(nil, EIEIOHeader{Type: EIEIOKey32}, evs)
	data := frame(t, SpiNNakerNotificationPort, pkt)
	var eth layers.Ethernet
	var ip layers.IPv4
	var udp layers.UDP
	eieio := EIEIOLayer{Events: make([]Event, 0, 256)}
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip, &udp, &eieio)
	decoded := make([]gopacket.LayerType, 0, 8)
	allocs := testing.AllocsPerRun(100, func() {
		if err := parser.DecodeLayers(data, &decoded); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || len(eieio.Events) != 63 {
		t.Errorf("got %v allocs and %d events, want 0 and 63", allocs, len(eieio.Events))
	}
}
