# relay.py — a hostile node for the tests (follow_cli.sh, bridge_cli.sh): an
# HTTP server on 127.0.0.1 (a free port, printed as its URL) that relays a
# real node's answers and, in /blocks streams, alters block 5 by MODE:
#   tamper  one byte of the block's record flipped
#   bundle  one byte of its proof bundle's record flipped
#   huge    the block record's length made 2^31-1
#   hugebundle  its proof bundle's record replaced by one of 200 MiB of
#           zeros, streamed (how many MiB went out: "hugebundle sent N MiB"
#           on stderr)
#   cut     the stream ends after the block
#   stall   the stream stops before the block and hangs (30 s)
#   honest  nothing changed
#   extra   each /blocks answer carries 5 blocks more than were asked for
# or otherwise:
#   error   the first /blocks request gets a 503 with a JSON error (a busy
#           proxy); later ones are relayed unchanged
#   inject  every /blocks request gets a 503 whose JSON message holds a line
#           break, a forged log line and a terminal escape
#   instant /events is answered at once, the tip unchanged (a caching
#           proxy); each such request is counted on stderr ("events N")
#   instantlow  as instant, and /status says a height 1 to 3 below the
#           node's, a different one each time (a hostile node)
#   slowtx  POST /tx is relayed 8 s late (a slow upstream)
#   hugetx  POST /tx is answered 200 with a JSON object of 1 MiB
#   othertx POST /tx is answered 200 naming another txid, then 302 with a
#           JSON body, then 200 naming $RELAY_TXID in upper case, then
#           relayed
#   trickle /status is sent one byte every half second (a node that never
#           quite stalls)
#   slowblocks  /blocks streams are sent one byte every 0.2 s
#   paced   /blocks streams are sent at 64 KiB a second (an honest node on
#           a slow link)
#   lostevents  /status says a height one below the node's until /events
#           is asked; that first /events gets no answer (the connection
#           closed: a proxy cutting a long poll), later ones are relayed;
#           each /events is counted on stderr ("events N")
#   dropevents  every /events gets no answer, counted so too
# Every POST is relayed (status and body as the node answers) and counted on
# stderr ("posts N").
# It lives at most 60 s.  usage: relay.py UPSTREAM MODE
import http.server, json, os, socketserver, struct, sys, threading, time, urllib.error, urllib.request
upstream, mode = sys.argv[1], sys.argv[2]
lock, seen = threading.Lock(), {"blocks": 0, "events": 0, "posts": 0, "status": 0}
def count(what):
    with lock:
        seen[what] += 1
        return seen[what]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if mode == "inject" and self.path.startswith("/blocks"):
            return self.answer(503, json.dumps({"code": 3, "message":
                "busy\n2026-12-06T00:00:00Z info forged\u001b[31m"}).encode())
        if mode == "error" and self.path.startswith("/blocks") and count("blocks") == 1:
            return self.answer(503, json.dumps({"code": 503, "message": "busy, try later"}).encode())
        if mode == "instantlow" and self.path == "/status":
            st = json.loads(urllib.request.urlopen(upstream + "/status", timeout=10).read())
            st["height"] -= 1 + count("status") % 3
            return self.answer(200, json.dumps(st).encode())
        if mode in ("lostevents", "dropevents") and self.path.startswith("/events"):
            k = count("events")
            print("events %d" % k, file=sys.stderr, flush=True)
            if k == 1 or mode == "dropevents":
                self.close_connection = True
                return
        if mode == "lostevents" and self.path == "/status" and seen["events"] == 0:
            st = json.loads(urllib.request.urlopen(upstream + "/status", timeout=10).read())
            st["height"] -= 1
            return self.answer(200, json.dumps(st).encode())
        if mode in ("instant", "instantlow") and self.path.startswith("/events"):
            print("events %d" % count("events"), file=sys.stderr, flush=True)
            return self.answer(200, urllib.request.urlopen(upstream + "/status", timeout=10).read())
        path = self.path
        if mode == "extra" and path.startswith("/blocks"):
            n = int(path.split("count=")[1].split("&")[0])
            path = path.replace("count=%d" % n, "count=%d" % (n + 5))
        body = urllib.request.urlopen(upstream + path, timeout=10).read()
        if mode == "trickle" and self.path == "/status":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1]); self.wfile.flush()
                time.sleep(0.5)
            return
        if mode == "slowblocks" and self.path.startswith("/blocks"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1]); self.wfile.flush()
                time.sleep(0.2)
            return
        if mode == "paced" and self.path.startswith("/blocks"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, len(body), 8192):
                self.wfile.write(body[i:i + 8192]); self.wfile.flush()
                time.sleep(1 / 8)
            return
        if self.path.startswith("/blocks"):
            recs, i = [], 0
            while i < len(body):
                n = struct.unpack_from("<I", body, i)[0]; recs.append(body[i:i + 4 + n]); i += 4 + n
            first = int(self.path.split("from=")[1].split("&")[0])
            k = 2 * (5 - first) if first <= 5 else None      # block 5's record
            if mode == "tamper" and k is not None and k < len(recs):
                r = bytearray(recs[k]); r[len(r) // 2] ^= 1; recs[k] = bytes(r)
            if mode == "bundle" and k is not None and k + 1 < len(recs):
                r = bytearray(recs[k + 1]); r[len(r) - 40] ^= 1; recs[k + 1] = bytes(r)
            if mode == "huge" and k is not None and k < len(recs):
                recs[k] = struct.pack("<I", 0x7fffffff) + recs[k][4:]
            if mode == "hugebundle" and k is not None and k + 1 < len(recs):
                self.send_response(200); self.end_headers()
                sent = 0
                try:
                    self.wfile.write(b"".join(recs[:k + 1]) + struct.pack("<I", 200 << 20))
                    for _ in range(200):
                        self.wfile.write(bytes(1 << 20)); sent += 1
                except OSError:
                    pass
                print("hugebundle sent %d MiB" % sent, file=sys.stderr, flush=True)
                return
            if mode == "cut" and k is not None:
                recs = recs[:k + 1]
            body = b"".join(recs)
            if mode == "stall" and k is not None:
                self.send_response(200); self.end_headers()
                self.wfile.write(b"".join(recs[:k])); self.wfile.flush()
                print("stalling", file=sys.stderr, flush=True)
                time.sleep(30)
                return
        self.answer(200, body)
    def do_POST(self):
        print("posts %d" % count("posts"), file=sys.stderr, flush=True)
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if mode == "slowtx" and self.path == "/tx":
            time.sleep(8)
        k = seen["posts"]  # this POST's number, counted above
        if mode == "othertx" and k == 1:
            return self.answer(200, json.dumps({"txid": "ab" * 32, "mempool": 1}).encode())
        if mode == "othertx" and k == 2:
            return self.answer(302, json.dumps({"txid": "ab" * 32}).encode())
        if mode == "othertx" and k == 3:  # the posted transaction, in upper case
            return self.answer(200, json.dumps({"txid": os.environ["RELAY_TXID"].upper()}).encode())
        if mode == "hugetx" and self.path == "/tx":
            return self.answer(200, b'{"message":"' + b"x" * (1 << 20) + b'"}')
        rq = urllib.request.Request(upstream + self.path, data=data,
                                    headers={"Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(rq, timeout=10) as r:
                self.answer(r.status, r.read())
        except urllib.error.HTTPError as e:
            self.answer(e.code, e.read())
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print("http://127.0.0.1:%d" % s.server_address[1], flush=True)
deadline = time.time() + 60
s.timeout = 0.5
while time.time() < deadline:
    s.handle_request()
