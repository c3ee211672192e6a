package aer

import (
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// gopacket layer types of the AER formats, in the application range
// (1000–1999 is gopacket's fast range for applications).
var (
	LayerTypeNative = gopacket.RegisterLayerType(1870, gopacket.LayerTypeMetadata{Name: "AERNative", Decoder: gopacket.DecodeFunc(decodeNativeLayer)})
	LayerTypeEIEIO  = gopacket.RegisterLayerType(1871, gopacket.LayerTypeMetadata{Name: "EIEIO", Decoder: gopacket.DecodeFunc(decodeEIEIOLayer)})
	LayerTypeSDP    = gopacket.RegisterLayerType(1872, gopacket.LayerTypeMetadata{Name: "SDP", Decoder: gopacket.DecodeFunc(decodeSDPLayer)})
	LayerTypeSPIF   = gopacket.RegisterLayerType(1873, gopacket.LayerTypeMetadata{Name: "SPIF", Decoder: gopacket.DecodeFunc(decodeSPIFLayer)})
	LayerTypeJAER   = gopacket.RegisterLayerType(1874, gopacket.LayerTypeMetadata{Name: "JAER", Decoder: gopacket.DecodeFunc(decodeJAERLayer)})
)

// The well-known UDP ports are registered when the package loads
// (layers.RegisterUDPPortLayerType writes a global map without a lock, so
// this must happen in init).
func init() {
	layers.RegisterUDPPortLayerType(NativePort, LayerTypeNative)
	layers.RegisterUDPPortLayerType(SpiNNakerSCPPort, LayerTypeSDP)
	layers.RegisterUDPPortLayerType(SpiNNakerNotificationPort, LayerTypeEIEIO)
	layers.RegisterUDPPortLayerType(SPIFPort, LayerTypeSPIF)
	layers.RegisterUDPPortLayerType(JAERPort, LayerTypeJAER)
}

// LayerTypeFor returns the layer type of a wire format.
func LayerTypeFor(f WireFormat) gopacket.LayerType {
	switch f {
	case WireNative:
		return LayerTypeNative
	case WireEIEIO:
		return LayerTypeEIEIO
	case WireJAER:
		return LayerTypeJAER
	case WireSPIF:
		return LayerTypeSPIF
	}
	return gopacket.LayerTypePayload
}

// setDecodeError marks truncation on df and returns err.
func setDecodeError(df gopacket.DecodeFeedback, err error) error {
	if errors.Is(err, ErrTruncated) && df != nil {
		df.SetTruncated()
	}
	return err
}

// NativeLayer is a native packet as a gopacket layer. Events is reused
// across DecodeFromBytes calls, so a DecodingLayerParser decodes without
// allocating.
type NativeLayer struct {
	layers.BaseLayer
	NativeHeader
	Events []Event
}

// LayerType implements gopacket.Layer.
func (l *NativeLayer) LayerType() gopacket.LayerType { return LayerTypeNative }

// CanDecode implements gopacket.DecodingLayer.
func (l *NativeLayer) CanDecode() gopacket.LayerClass { return LayerTypeNative }

// NextLayerType implements gopacket.DecodingLayer: the packet is a leaf.
func (l *NativeLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// Payload implements gopacket.ApplicationLayer: the whole packet.
func (l *NativeLayer) Payload() []byte { return l.Contents }

// DecodeFromBytes implements gopacket.DecodingLayer.
func (l *NativeLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	var err error
	l.NativeHeader, l.Events, err = DecodeNative(data, l.Events[:0])
	l.BaseLayer = layers.BaseLayer{Contents: data}
	return setDecodeError(df, err)
}

// SerializeTo implements gopacket.SerializableLayer. All events must fit
// one packet (NativeFit); Count and Base are taken from Events.
func (l *NativeLayer) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	flags := l.Flags
	if n := NativeFit(flags, l.Events); n != len(l.Events) {
		return fmt.Errorf("aer: %d events do not fit one native packet (%d do)", len(l.Events), n)
	}
	size := NativeHeaderLen + len(l.Events)*NativeHeader{Flags: flags}.EventSize()
	buf, err := b.PrependBytes(size)
	if err != nil {
		return err
	}
	AppendNative(buf[:0], flags, l.Seq, l.Events)
	if len(l.Events) == 0 {
		binaryPutPort(buf, l.Port)
	}
	return nil
}

func decodeNativeLayer(data []byte, p gopacket.PacketBuilder) error {
	l := &NativeLayer{}
	if err := l.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(l)
	p.SetApplicationLayer(l)
	return nil
}

// EIEIOLayer is an EIEIO data or command packet.
type EIEIOLayer struct {
	layers.BaseLayer
	IsCommand bool
	Command   EIEIOCommand // if IsCommand
	Header    EIEIOHeader  // if !IsCommand
	Events    []Event      // if !IsCommand; reused
}

// LayerType implements gopacket.Layer.
func (l *EIEIOLayer) LayerType() gopacket.LayerType { return LayerTypeEIEIO }

// CanDecode implements gopacket.DecodingLayer.
func (l *EIEIOLayer) CanDecode() gopacket.LayerClass { return LayerTypeEIEIO }

// NextLayerType implements gopacket.DecodingLayer.
func (l *EIEIOLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// Payload implements gopacket.ApplicationLayer.
func (l *EIEIOLayer) Payload() []byte { return l.Contents }

// DecodeFromBytes implements gopacket.DecodingLayer.
func (l *EIEIOLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.BaseLayer = layers.BaseLayer{Contents: data}
	l.IsCommand = IsEIEIOCommand(data)
	l.Header, l.Command, l.Events = EIEIOHeader{}, EIEIOCommand{}, l.Events[:0]
	var err error
	if l.IsCommand {
		l.Command, err = DecodeEIEIOCommand(data)
	} else {
		l.Header, l.Events, err = DecodeEIEIO(data, l.Events)
	}
	return setDecodeError(df, err)
}

// SerializeTo implements gopacket.SerializableLayer.
func (l *EIEIOLayer) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	var pkt []byte
	if l.IsCommand {
		pkt = AppendEIEIOCommand(nil, l.Command)
	} else {
		var n int
		pkt, n = AppendEIEIO(nil, l.Header, l.Events)
		if n != len(l.Events) {
			return fmt.Errorf("aer: %d events do not fit one EIEIO packet (%d do)", len(l.Events), n)
		}
	}
	buf, err := b.PrependBytes(len(pkt))
	if err != nil {
		return err
	}
	copy(buf, pkt)
	return nil
}

func decodeEIEIOLayer(data []byte, p gopacket.PacketBuilder) error {
	l := &EIEIOLayer{}
	if err := l.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(l)
	p.SetApplicationLayer(l)
	return nil
}

// SDPLayer is the SDP wrapping (2 pad bytes and the 8-byte header) of
// traffic to a board's port 17893. SDP port 0 is SCP (not decoded further);
// any other port carries EIEIO (live injection uses port 1).
type SDPLayer struct {
	layers.BaseLayer
	SDPHeader
}

// LayerType implements gopacket.Layer.
func (l *SDPLayer) LayerType() gopacket.LayerType { return LayerTypeSDP }

// CanDecode implements gopacket.DecodingLayer.
func (l *SDPLayer) CanDecode() gopacket.LayerClass { return LayerTypeSDP }

// NextLayerType implements gopacket.DecodingLayer.
func (l *SDPLayer) NextLayerType() gopacket.LayerType {
	if l.DestPort == 0 {
		return gopacket.LayerTypePayload
	}
	return LayerTypeEIEIO
}

// DecodeFromBytes implements gopacket.DecodingLayer.
func (l *SDPLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	h, payload, err := DecodeSDP(data)
	l.SDPHeader = h
	if err != nil {
		l.BaseLayer = layers.BaseLayer{Contents: data}
		return setDecodeError(df, err)
	}
	l.BaseLayer = layers.BaseLayer{Contents: data[:SDPLen], Payload: payload}
	return nil
}

// SerializeTo implements gopacket.SerializableLayer.
func (l *SDPLayer) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	buf, err := b.PrependBytes(SDPLen)
	if err != nil {
		return err
	}
	AppendSDP(buf[:0], l.SDPHeader, nil)
	return nil
}

func decodeSDPLayer(data []byte, p gopacket.PacketBuilder) error {
	l := &SDPLayer{}
	if err := l.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(l)
	return p.NextDecoder(l.NextLayerType())
}

// SPIFLayer is a datagram of SPIF words.
type SPIFLayer struct {
	layers.BaseLayer
	Events []Event
	// Timestamps makes SerializeTo write a timestamp word after each event.
	Timestamps bool
}

// LayerType implements gopacket.Layer.
func (l *SPIFLayer) LayerType() gopacket.LayerType { return LayerTypeSPIF }

// CanDecode implements gopacket.DecodingLayer.
func (l *SPIFLayer) CanDecode() gopacket.LayerClass { return LayerTypeSPIF }

// NextLayerType implements gopacket.DecodingLayer.
func (l *SPIFLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// Payload implements gopacket.ApplicationLayer.
func (l *SPIFLayer) Payload() []byte { return l.Contents }

// DecodeFromBytes implements gopacket.DecodingLayer.
func (l *SPIFLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	var err error
	l.BaseLayer = layers.BaseLayer{Contents: data}
	l.Events, err = DecodeSPIF(data, l.Events[:0])
	return setDecodeError(df, err)
}

// SerializeTo implements gopacket.SerializableLayer.
func (l *SPIFLayer) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	pkt := AppendSPIF(nil, l.Events, l.Timestamps)
	buf, err := b.PrependBytes(len(pkt))
	if err != nil {
		return err
	}
	copy(buf, pkt)
	return nil
}

func decodeSPIFLayer(data []byte, p gopacket.PacketBuilder) error {
	l := &SPIFLayer{}
	if err := l.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(l)
	p.SetApplicationLayer(l)
	return nil
}

// JAERLayer is a jAER AEUnicast datagram with a sequence number.
type JAERLayer struct {
	layers.BaseLayer
	Seq    uint32
	Events []Event
}

// LayerType implements gopacket.Layer.
func (l *JAERLayer) LayerType() gopacket.LayerType { return LayerTypeJAER }

// CanDecode implements gopacket.DecodingLayer.
func (l *JAERLayer) CanDecode() gopacket.LayerClass { return LayerTypeJAER }

// NextLayerType implements gopacket.DecodingLayer.
func (l *JAERLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// Payload implements gopacket.ApplicationLayer.
func (l *JAERLayer) Payload() []byte { return l.Contents }

// DecodeFromBytes implements gopacket.DecodingLayer.
func (l *JAERLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	var err error
	l.BaseLayer = layers.BaseLayer{Contents: data}
	l.Seq, l.Events, err = DecodeJAER(data, true, l.Events[:0])
	return setDecodeError(df, err)
}

// SerializeTo implements gopacket.SerializableLayer.
func (l *JAERLayer) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	buf, err := b.PrependBytes(4 + 8*len(l.Events))
	if err != nil {
		return err
	}
	AppendJAER(buf[:0], true, l.Seq, l.Events)
	return nil
}

func decodeJAERLayer(data []byte, p gopacket.PacketBuilder) error {
	l := &JAERLayer{}
	if err := l.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(l)
	p.SetApplicationLayer(l)
	return nil
}
