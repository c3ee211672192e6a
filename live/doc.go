// Package live runs a loaded chip live: address events arrive over UDP,
// enter the image's input ports at the tick their time names, and the
// spikes of the output ports leave as UDP datagrams, one batch per tick.
// It is what "aerie serve" runs; docs/live.md is the user's manual.
//
// # Pieces
//
// Package aer owns the sockets and the codecs (native, EIEIO, jAER, SPIF;
// SDP, SCP, the notification protocol), package chip owns the engine and
// its InputSource/OutputSink seam; this package composes them and owns the
// server loop, the pacing to the wall clock and the counters. A Server has
// three goroutines:
//
//	intake      socket → sender check (Config.Allow) → capture → decode →
//	            map to (port, channel, stamp) → chunks of events
//	tick loop   chunks → tick queue → chip.System.Run(1) per tick → the
//	            tick's output to every destination (one batch) and to the
//	            recording; pacing, pause and stop
//	metrics     Prometheus /metrics and /status (optional), and the status
//	            line (optional), reading atomic counters only
//
// The intake never waits for the tick loop: it fills chunks from a fixed
// pool (DefaultChunks × DefaultChunk events) and, when none is free, drops
// the events and counts them (queue_full). The tick queue holds at most
// Config.Queue events, at most Config.Horizon ticks ahead. So memory is
// bounded whatever arrives: a flood costs drops, never growth, and the
// chip keeps its clock.
//
// # Time
//
// Ticks are numbered from 0, the server's first tick. An input event is
// stamped or untimed:
//
//	native, tick unit     stamp = the event's time; a negative time is untimed
//	native, µs unit       stamp = time / TickUS
//	EIEIO with T          stamp = the timestamp (payload prefix or payload)
//	EIEIO without T       untimed
//	jAER, SPIF            untimed (their µs are the sensor's clock)
//
// (Config.IgnoreStamps makes everything untimed.) When the tick loop
// takes an event while tick n is next: a stamp s ≥ n waits in slot s; s <
// n is late (counted) and goes to tick n (LateApply) or is dropped
// (LateDrop); an untimed event goes to tick n. The chip asks for tick t's
// input at the end of tick t, so input of tick t is integrated at t+1+delay
// (chip.InputSource), and the relay's answer to (c, t) is (c, t+1).
//
// Real-time mode (Config.Period) runs tick k at anchor + k·Period, the
// anchor being the start (or the last resume): a late tick starts at once
// and the next ones catch up, so the clock never drifts (ticks ≈ running
// time / Period). Jitter is the start's lateness; an overrun is a tick that
// took longer than Period.
//
// Fast mode (Config.Fast) runs tick n as soon as its input is known: when
// some received stamp is > n (streams are taken to be in time order: the
// watermark), when untimed or late events are waiting (they belong to n),
// during the Drain ticks that follow such a tick (so that their output
// leaves at once), and otherwise after Idle without a tick. With Idle < 0,
// stamps alone move time and the same input file gives the same output
// file. At shutdown, fast mode runs every queued tick and Drain more.
//
// # Keys
//
// The keyed formats (EIEIO keys, jAER addresses, SPIF y<<16|x) address
// ports the way sPyNNaker allocates keys to populations (AllocateKeys):
// input port i is base i<<16 / mask 0xFFFF0000 and output port j is
// 0x80000000 | j<<16 / 0xFFFF0000 (more channel bits when a port has more
// than 65536 channels). The native format names the port directly.
//
// # Output
//
// Each tick's spikes go, as one batch of datagrams, to every destination:
// Config.To, the senders when Config.Reply is set, and the IP-tag targets
// of SpiNNaker live mode. Native output: Port = output port, time = tick.
// EIEIO output is the live packet gatherer's: NN 38 | tick u32 | keys u32.
// jAER and SPIF output carry the output keys and the tick in µs.
//
// # EIEIO control
//
// EIEIO command packets on the listen socket: START_RESUME (0B 40) starts
// or resumes the clock (Config.Paused waits for it), STOP_PAUSE (0A 40)
// pauses it. Others are counted.
//
// # SpiNNaker live mode
//
// With Config.SpiNNaker the listen socket is a board's port 17893 and
// every datagram is SDP-wrapped: SDP port 0 carries SCP (the IP-tag set
// request, answered with the 18-byte OK reply; its source, or the address
// it names, becomes an output destination), port 1 EIEIO data for an
// injector core (input port i is at chip (i/16, 0), core 1 + i%16; bare
// 16-bit atom ids get that port's base key). The handshake, run before
// the first tick:
//
//	server → client:19999   01 40 + database path  (repeated each Resend until acknowledged or AckTimeout)
//	client → board:17893    SCP IP-tag set (strip SDP, use sender)    → 18-byte reply
//	client → server         01 40                  (acknowledgement)
//	server → client:19999   0B 40                  (START_RESUME; the clock starts)
//	…                       live traffic
//	server → client:19999   0A 40                  (STOP_PAUSE, at shutdown)
//
// The database is SpiNNFrontEndCommon's SQLite file: DatabaseTables are its
// tables, WriteDatabase writes them as a real SQLite 3 file (WriteSQLite, a
// pure-Go writer of table b-trees, sqlitefile.go) at the path the
// notification names, and DatabaseSQL gives them as an SQL script (see
// docs/live.md for what a stock client needs).
//
// # Shutdown
//
// Run stops intake (a read deadline on the socket, 10 ms on, so that
// what has reached the socket is still read), places what was
// handed over, finishes the work (the current tick; fast mode: the queue),
// flushes and closes the senders (native streams end with heartbeats),
// sends STOP_PAUSE in SpiNNaker mode, closes the recording and the capture
// (the caller commits the files), closes the sockets and returns the
// Summary.
package live
