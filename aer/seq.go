package aer

// SeqWindow is how far back (in packets) a SeqTracker remembers which
// sequence numbers it has seen.
const SeqWindow = 64

// DefaultResyncGap is the jump of sequence number (either way) beyond which
// a SeqTracker assumes the sender restarted instead of counting millions of
// lost or late packets.
const DefaultResyncGap = 1 << 20

// SeqTracker accounts for one stream of 32-bit sequence numbers that wrap
// around. Numbers are compared with serial arithmetic (the difference as an
// int32), so wrap-around needs no special case.
//
// A number above the highest seen so far counts the gap as lost; a number
// inside the window (the last SeqWindow numbers) that was missing fills its
// gap: lost goes down by one and reordered up by one; one already seen is a
// duplicate. A number older than the window is late: it also takes one off
// lost (it did arrive), but a duplicate that old cannot be told apart from a
// late packet. Lost therefore counts the packets missing between the first
// and the highest number seen; a loss after the last packet received is
// invisible until a later packet (the sender's closing heartbeat, say)
// arrives.
type SeqTracker struct {
	// ResyncGap overrides DefaultResyncGap when non-zero.
	ResyncGap uint32

	Received  uint64 // packets accepted (not duplicates)
	Lost      uint64 // packets currently missing
	Duplicate uint64
	Reordered uint64 // arrived after a higher number, inside the window
	Late      uint64 // arrived after leaving the window
	Resyncs   uint64 // sender restarts detected

	init   bool
	high   uint32
	window uint64 // bit i set: high-i has been seen
}

// Observe accounts for seq and reports whether the packet should be
// delivered (false for duplicates).
func (t *SeqTracker) Observe(seq uint32) bool {
	gap := t.ResyncGap
	if gap == 0 {
		gap = DefaultResyncGap
	}
	if !t.init {
		t.init, t.high, t.window = true, seq, 1
		t.Received++
		return true
	}
	d := int64(int32(seq - t.high))
	switch {
	case d > int64(gap) || -d > int64(gap):
		t.Resyncs++
		t.high, t.window = seq, 1
	case d > 0:
		t.Lost += uint64(d - 1)
		if d >= SeqWindow {
			t.window = 1
		} else {
			t.window = t.window<<uint(d) | 1
		}
		t.high = seq
	case d == 0:
		t.Duplicate++
		return false
	case -d < SeqWindow:
		bit := uint64(1) << uint(-d)
		if t.window&bit != 0 {
			t.Duplicate++
			return false
		}
		t.window |= bit
		t.Reordered++
		if t.Lost > 0 {
			t.Lost--
		}
	default:
		t.Late++
		if t.Lost > 0 {
			t.Lost--
		}
	}
	t.Received++
	return true
}

// High is the highest sequence number seen and whether any was seen.
func (t *SeqTracker) High() (uint32, bool) { return t.high, t.init }
