"""Loads a page in headless Chromium and writes what its Network domain saw as HAR 1.2, the way
Chromium's own HAR export records it (not a test itself).

  cdp_har.py WS_URL PAGE_URL OUT.har

WS_URL is the browser's DevTools endpoint (ws://127.0.0.1:PORT/devtools/browser/ID). The page
is opened in a new tab; once it has loaded and the network has been quiet for half a second,
every request with its response, headers, timings, server address, connection id and body
(base64 when binary) becomes an entry. The WebSocket client is minimal (RFC 6455 text frames,
client masking) so the script needs only Python's standard library.
"""
import base64
import datetime
import json
import os
import socket
import struct
import sys
import time
import urllib.parse


class WebSocket:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (u.path, u.hostname, u.port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("DevTools closed the connection")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise OSError("DevTools refused the WebSocket: %r" % head[:100])
        self.buf = head.split(b"\r\n\r\n", 1)[1]

    def send(self, obj):
        data = json.dumps(obj).encode()
        n = len(data)
        head = bytes([0x81])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("DevTools closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            if b0 & 0x0F in (0x9, 0xA):  # ping, pong
                continue
            message += payload
            if b0 & 0x80:
                return json.loads(message)


class Session:
    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(msg)
        while True:
            m = self.ws.recv()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m["result"]
            self.events.append(m)


def iso(wall):
    t = datetime.datetime.fromtimestamp(wall, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def headers_list(h):
    return [{"name": k, "value": v} for k, vs in h.items() for v in vs.split("\n")]


def version(protocol):
    return {"http/1.1": "HTTP/1.1", "http/1.0": "HTTP/1.0", "h2": "http/2.0"}.get(protocol, protocol)


def timings(t):
    if not t:
        return {"blocked": -1, "dns": -1, "ssl": -1, "connect": -1, "send": 0, "wait": 0, "receive": 0}
    span = lambda a, b: round(t[b] - t[a], 3) if t.get(a, -1) >= 0 and t.get(b, -1) >= 0 else -1
    return {"blocked": -1, "dns": span("dnsStart", "dnsEnd"), "ssl": span("sslStart", "sslEnd"),
            "connect": span("connectStart", "connectEnd"), "send": max(span("sendStart", "sendEnd"), 0),
            "wait": max(round(t["receiveHeadersEnd"] - t["sendEnd"], 3), 0), "receive": 0}


def main():
    ws_url, page_url, out = sys.argv[1:4]
    s = Session(WebSocket(ws_url))
    target = s.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    sid = s.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    s.call("Network.enable", session=sid)
    s.call("Page.enable", session=sid)
    s.call("Network.setCacheDisabled", {"cacheDisabled": True}, session=sid)
    s.call("Page.navigate", {"url": page_url}, session=sid)
    loaded, quiet_since, deadline = False, time.time(), time.time() + 20
    s.ws.sock.settimeout(0.5)
    while time.time() < deadline and not (loaded and time.time() - quiet_since > 0.5):
        try:
            m = s.ws.recv()
        except socket.timeout:
            continue
        s.events.append(m)
        loaded |= m.get("method") == "Page.loadEventFired"
        if m.get("method", "").startswith("Network."):
            quiet_since = time.time()
    s.ws.sock.settimeout(30)
    reqs = {}
    for m in s.events:
        p, method = m.get("params", {}), m.get("method")
        if method == "Network.requestWillBeSent":
            reqs[p["requestId"]] = {"req": p, "resp": None, "done": False, "extra": None}
        elif method == "Network.requestWillBeSentExtraInfo" and p["requestId"] in reqs:
            reqs[p["requestId"]]["extra"] = p
        elif method == "Network.responseReceived" and p["requestId"] in reqs:
            reqs[p["requestId"]]["resp"] = p["response"]
        elif method == "Network.loadingFinished" and p["requestId"] in reqs:
            reqs[p["requestId"]]["done"] = True
    entries = []
    for rid, r in reqs.items():
        req, resp = r["req"]["request"], r["resp"]
        if not resp or not r["done"] or not req["url"].startswith("http"):
            continue
        body = s.call("Network.getResponseBody", {"requestId": rid}, session=sid)
        content = {"size": len(base64.b64decode(body["body"])) if body["base64Encoded"] else len(body["body"].encode()),
                   "mimeType": resp.get("mimeType", "x-unknown"), "text": body["body"]}
        if body["base64Encoded"]:
            content["encoding"] = "base64"
        sent = r["extra"]["headers"] if r["extra"] else req["headers"]
        entry = {
            "_initiator": r["req"].get("initiator", {}), "_resourceType": r["req"].get("type", "").lower(),
            "cache": {}, "connection": str(resp.get("connectionId", "")), "pageref": "page_1",
            "request": {"method": req["method"], "url": req["url"], "httpVersion": version(resp.get("protocol", "")),
                        "headers": headers_list(sent), "queryString": [], "cookies": [],
                        "headersSize": -1, "bodySize": len(req.get("postData", "").encode())},
            "response": {"status": resp["status"], "statusText": resp.get("statusText", ""),
                         "httpVersion": version(resp.get("protocol", "")), "headers": headers_list(resp["headers"]),
                         "cookies": [], "content": content, "redirectURL": "", "headersSize": -1,
                         "bodySize": -1, "_transferSize": resp.get("encodedDataLength", -1), "_error": None},
            "serverIPAddress": resp.get("remoteIPAddress", ""),
            "startedDateTime": iso(r["req"]["wallTime"]),
            "time": 0, "timings": timings(resp.get("timing")),
        }
        if "postData" in req:
            entry["request"]["postData"] = {"mimeType": sent.get("Content-Type", ""), "text": req["postData"]}
        entry["time"] = sum(v for v in entry["timings"].values() if v > 0)
        entries.append(entry)
    doc = {"log": {"version": "1.2", "creator": {"name": "Chromium (DevTools protocol)", "version": "cdp"},
                   "pages": [{"startedDateTime": entries[0]["startedDateTime"] if entries else iso(time.time()),
                              "id": "page_1", "title": page_url, "pageTimings": {}}],
                   "entries": entries}}
    with open(out, "w") as f:
        json.dump(doc, f, indent=2)
    s.call("Target.closeTarget", {"targetId": target})


main()
