#!/usr/bin/env python3
"""A minimal live client of `aerie serve`, standard library only.

It sends spikes to a running server in aerie's native UDP format and
prints the output spikes that come back. Start the server so that it
answers its senders:

    aerie serve --image relay.img --tick 1ms --reply

then, in another terminal:

    python3 examples/clients/aerie_client.py --channels 0,5,63

The native packet (docs/live.md, aer/doc.go), little-endian:

    'A' 'E' version=1 flags   port u16   count u16   seq u32   base time i64
    then count events: dt u32 (time = base + dt), channel u32

A negative time means "untimed": the server applies the event at its next
tick. Output packets have the same layout; their time is the tick at
which the output neuron fired.
"""

import argparse
import socket
import struct
import sys
import time

HEADER = struct.Struct("<2sBBHHIq")  # magic, version, flags, port, count, seq, base time
EVENT = struct.Struct("<II")  # dt, channel


def packet(port, seq, channels, tick=-1):
    """One native packet of events on `port`, all at `tick` (-1: untimed)."""
    head = HEADER.pack(b"AE", 1, 0, port, len(channels), seq, tick)
    return head + b"".join(EVENT.pack(0, c) for c in channels)


def decode(data):
    """The (tick, port, channel) events of a native packet; [] if it is not one."""
    if len(data) < HEADER.size:
        return []
    magic, version, flags, port, count, _seq, base = HEADER.unpack_from(data)
    size = 12 if flags & 1 else 8
    if magic != b"AE" or version != 1 or len(data) != HEADER.size + count * size:
        return []
    out = []
    for i in range(count):
        dt, channel = EVENT.unpack_from(data, HEADER.size + i * size)
        out.append((base + dt, port, channel))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=7433, help="the server's UDP port")
    ap.add_argument("--input-port", type=int, default=0, help="the image's input port")
    ap.add_argument("--channels", default="0,1,2", help="channels to spike, comma-separated")
    ap.add_argument("--repeat", type=int, default=1, help="packets to send, 20 ms apart")
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for the replies")
    args = ap.parse_args()
    channels = [int(c) for c in args.channels.split(",") if c]
    expected = len(channels) * args.repeat

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.05)
    server = (args.host, args.port)
    received = 0
    deadline = time.monotonic() + args.timeout
    for seq in range(args.repeat):
        sock.sendto(packet(args.input_port, seq, channels), server)
        end = time.monotonic() + 0.02
        while time.monotonic() < end:
            received += receive(sock)
    while received < expected and time.monotonic() < deadline:
        received += receive(sock)
    print(f"received {received} spikes (sent {expected})")
    return 0 if received >= expected else 1


def receive(sock):
    try:
        data, _ = sock.recvfrom(2048)
    except socket.timeout:
        return 0
    events = decode(data)
    for tick, port, channel in events:
        print(f"tick {tick} port {port} channel {channel}")
    return len(events)


if __name__ == "__main__":
    sys.exit(main())
