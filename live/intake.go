package live

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/aerie-neuro/aerie/aer"
)

// intake reads datagrams until the server stops: sender check, capture,
// decoding, mapping to (port, channel, stamp), hand-over to the tick loop
// in chunks. It never blocks on the tick loop: without a free chunk the
// events are dropped and counted.
func (s *Server) intake() {
	size := 4096 // native ≤ 1472, EIEIO ≤ 2048 (+ SDP)
	if s.cfg.Format == aer.WireJAER || s.cfg.Format == aer.WireSPIF {
		size = 1 << 16
	}
	rd := aer.NewDatagramReader(s.conn, 0, size, s.cfg.ReadBuffer)
	for {
		_, err := rd.Read(s.handle)
		s.handOver()
		if err == nil {
			continue
		}
		if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
			return
		}
		// A transient error (an ICMP report on some systems): go on,
		// without spinning.
		s.log.Warn("receive", "err", err)
		time.Sleep(time.Millisecond)
	}
}

// handOver passes the current chunk to the tick loop and takes a free one.
func (s *Server) handOver() {
	if s.cur != nil && len(s.cur.evs) > 0 {
		s.full <- s.cur // never blocks: the channel holds every chunk
		s.cur = nil
	}
	if s.cur == nil {
		select {
		case s.cur = <-s.free:
		default:
		}
	}
}

// push queues one decoded event for the tick loop.
func (s *Server) push(e aer.Event) {
	if s.cur == nil || len(s.cur.evs) == cap(s.cur.evs) {
		s.handOver()
		if s.cur == nil {
			s.c.dropQueue.Add(1)
			return
		}
	}
	s.cur.evs = append(s.cur.evs, e)
}

func (s *Server) allowed(a netip.Addr) bool {
	if len(s.cfg.Allow) == 0 {
		return true
	}
	a = a.Unmap()
	for _, p := range s.cfg.Allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// handle accounts for one datagram and decodes it.
func (s *Server) handle(b []byte, from netip.AddrPort, cut bool) {
	s.c.packets.Add(1)
	s.c.bytes.Add(uint64(len(b)))
	if !s.allowed(from.Addr()) {
		s.c.refused.Add(1)
		return
	}
	if s.pcap != nil {
		s.pcap.write(from, s.local, b)
	}
	if cut {
		s.c.malformed.Add(1)
		return
	}
	if s.spin != nil {
		s.spin.handle(b, from)
		return
	}
	s.handleData(b, from, -1)
}

// handleData decodes a datagram of the server's format. corePort ≥ 0 is
// the input port of the SpiNNaker injector core the datagram was sent to
// (SDP), which gives bare 16-bit atom ids their port.
func (s *Server) handleData(b []byte, from netip.AddrPort, corePort int) {
	evs := s.scratch[:0]
	var err error
	stamped := false
	usStamps := false
	keyed := true
	switch s.cfg.Format {
	case aer.WireNative:
		var h aer.NativeHeader
		if h, err = aer.DecodeNativeHeader(b); err != nil {
			break
		}
		if !s.observe(seqKey{from, h.Port}, h.Seq) {
			return
		}
		_, evs, err = aer.DecodeNative(b, evs)
		stamped, usStamps, keyed = true, h.Unit() == aer.Microsecond, false
	case aer.WireEIEIO:
		if aer.IsEIEIOCommand(b) {
			s.command(b)
			return
		}
		var h aer.EIEIOHeader
		h, evs, err = aer.DecodeEIEIO(b, evs)
		if err == nil && corePort >= 0 && h.Type.KeyBytes() == 2 && !h.HasPrefix {
			base := s.keys.InputKey(uint16(corePort), 0)
			for i := range evs {
				evs[i].Channel |= base
			}
		}
		stamped = h.Timestamp
	case aer.WireJAER:
		var seq uint32
		seq, evs, err = aer.DecodeJAER(b, true, evs)
		if err == nil && !s.observe(seqKey{from, 0}, seq) {
			return
		}
	case aer.WireSPIF:
		evs, err = aer.DecodeSPIF(b, evs)
	default:
		return
	}
	if err != nil {
		s.c.malformed.Add(1)
		return
	}
	if len(evs) == 0 {
		return // a heartbeat
	}
	if cap(evs) > cap(s.scratch) {
		s.scratch = evs[:0] // keep the grown buffer (bounded by the largest datagram)
	}
	s.c.eventsIn.Add(uint64(len(evs)))
	if s.cfg.Reply {
		s.out.addReply(from)
	}
	if s.cfg.IgnoreStamps {
		stamped = false
	}
	var unmapped uint64
	for _, e := range evs {
		var ev aer.Event
		if keyed {
			p, ch, ok := s.keys.InputOf(e.Channel)
			if !ok {
				unmapped++
				continue
			}
			ev.Port, ev.Channel = p, ch
		} else {
			if !s.keys.validInput(e.Port, e.Channel) {
				unmapped++
				continue
			}
			ev.Port, ev.Channel = e.Port, e.Channel
		}
		ev.Time = -1
		if stamped && e.Time >= 0 {
			ev.Time = e.Time
			if usStamps {
				ev.Time = int64(float64(e.Time) / s.cfg.TickUS)
			}
		}
		s.push(ev)
	}
	s.c.dropUnmapped.Add(unmapped)
}

// observe runs the sequence tracker of a stream; false means a duplicate.
func (s *Server) observe(k seqKey, seq uint32) bool {
	t := s.trackers[k]
	if t == nil {
		if len(s.trackers) >= maxTrackers {
			return true // untracked: too many streams
		}
		t = &aer.SeqTracker{}
		s.trackers[k] = t
	}
	lost := t.Lost
	ok := t.Observe(seq)
	s.c.lost.Add(int64(t.Lost) - int64(lost))
	if !ok {
		s.c.duplicate.Add(1)
	}
	return ok
}

// command handles an EIEIO command packet: START_RESUME and STOP_PAUSE go
// to the tick loop; others are counted.
func (s *Server) command(b []byte) {
	c, err := aer.DecodeEIEIOCommand(b)
	if err != nil {
		s.c.malformed.Add(1)
		return
	}
	s.c.commands.Add(1)
	switch c.ID {
	case ctlStart, ctlStop:
		select {
		case s.ctl <- c.ID:
		default: // a flood of commands: the tick loop has enough of them
		}
	}
}
