#!/usr/bin/env python3
# trickle.py HOST:PORT body|head — 8 connections to a node that each send a
# byte a second (node_cli.sh): "body", a POST /tx whose 1000-byte body
# trickles; "head", a request head that trickles (the first connection
# after a whole request answered, kept alive). Prints how many the node
# closed within 14 s. Bounded: 8 connections, 14 s.
import socket, sys, time
host, port = sys.argv[1].split(":")
head = sys.argv[2] == "head"
socks = []
for i in range(8):
    s = socket.create_connection((host, int(port)), timeout=2)
    if head:
        if i == 0:   # kept alive: one whole request answered, then the next head trickles
            s.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 200"), "the first request answered"
        s.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n")
    else:
        s.sendall(b"POST /tx HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
    socks.append(s)
t0, closed = time.time(), {}
while time.time() - t0 < 14 and len(closed) < len(socks):
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            s.sendall(b"X" if head else b"x")
            s.settimeout(0.01)
            if s.recv(4096) == b"":
                closed[i] = time.time() - t0
        except socket.timeout:
            pass
        except OSError:
            closed[i] = time.time() - t0
    time.sleep(1)
print("closed %d of %d, last after %.1f s" % (len(closed), len(socks), max(closed.values(), default=0)))
