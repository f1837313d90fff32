#!/usr/bin/env python3
"""Forged traffic for the fault campaign, run inside one node's network namespace
(`ip netns exec`), so that it comes from a cluster member's own address.

usage: packets.py garbage PORT COUNT ADDR...
       packets.py replay IFACE PORT SECONDS REPEAT

garbage: COUNT datagrams of random length (1..1500) and random bytes to every ADDR:PORT,
and as many again that start like a real packet (the first 16 bytes of a captured-looking
header are not known here, so the same random prefix is reused with a random tail, which
hits the decoder's deeper checks more often than pure noise).

replay: captures every UDP frame this node sends from PORT on IFACE for SECONDS (AF_PACKET,
so the copies are byte for byte what the daemon sent: same addresses, ports, counters and
authentication tags), then sends each captured frame REPEAT times again, in order, then
once more in reverse order, and then a copy of each with one bit flipped. UDP checksums are cleared (see
no_udp_checksum) so that every copy reaches the daemons. The daemons
must drop all of them (replay window, authentication) without any membership change.
Prints what it did on one line. Bounded: capture stops at SECONDS and at 20000 frames."""
import os
import random
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800


def garbage(port, count, addrs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    prefix = os.urandom(24)
    sent = 0
    for _ in range(count):
        for a in addrs:
            for body in (os.urandom(random.randint(1, 1500)),
                         prefix[:random.randint(1, 24)] + os.urandom(random.randint(0, 400))):
                try:
                    s.sendto(body, (a, port))
                    sent += 1
                except OSError:
                    pass  # a fault rule may refuse the send (EPERM): that is fine
    print("garbage: %d datagrams sent" % sent)


def is_our_udp(frame, port):
    """True for an IPv4/UDP frame whose source port is `port`."""
    if len(frame) < 14 + 20 + 8 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return False
    ihl = (frame[14] & 0x0F) * 4
    if frame[23] != 17 or len(frame) < 14 + ihl + 8:
        return False
    return struct.unpack("!H", frame[14 + ihl:16 + ihl])[0] == port


def no_udp_checksum(frame):
    b = bytearray(frame)
    ihl = (b[14] & 0x0F) * 4
    b[14 + ihl + 6:14 + ihl + 8] = b"\0\0"
    return bytes(b)


def replay(iface, port, seconds, repeat):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.settimeout(0.05)
    frames = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and len(frames) < 20000:
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        # addr[2] is the packet type: 4 = PACKET_OUTGOING, what this node sent.
        if addr[2] == 4 and is_our_udp(data, port):
            frames.append(data)
    # Frames captured on the way out of a veth may carry a partial UDP checksum (the
    # checksum is offloaded): sent again as they are, the receiving kernel drops most of
    # them and the daemon never sees the replay. A zero UDP checksum means "none" in
    # IPv4, so every copy reaches the daemon, whose replay window has to refuse it.
    frames = [no_udp_checksum(f) for f in frames]
    sent = 0
    batches = [frames] * repeat + [list(reversed(frames))]
    flipped = []
    for f in frames:
        b = bytearray(f)
        payload = 14 + (b[14] & 0x0F) * 4 + 8
        if payload >= len(b):
            continue
        b[random.randrange(payload, len(b))] ^= 1 << random.randrange(8)
        flipped.append(bytes(b))  # the daemon's authentication has to catch it
    for batch in batches + [flipped]:
        for f in batch:
            try:
                s.send(f)
                sent += 1
            except OSError:
                pass
    print("replay: %d frames captured, %d sent again" % (len(frames), sent))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "garbage" and len(sys.argv) >= 5:
        garbage(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
    elif sys.argv[1] == "replay" and len(sys.argv) == 6:
        replay(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
