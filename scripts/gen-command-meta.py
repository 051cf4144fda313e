#!/usr/bin/env python3
"""Regenerates, from a real redis-server 7.0:
- libsable/src/commands/meta.json: COMMAND INFO and COMMAND DOCS of every command, as typed RESP3 trees, so SableDB
  answers COMMAND exactly as Redis does for the commands it implements;
- libsable/src/config/redis_defaults.json: every CONFIG GET * parameter with its default value.

Usage: scripts/gen-command-meta.py [redis-server binary]   (starts a throw-away server on a free port)

Each RESP value becomes a tagged JSON pair: ["s", text] simple string, ["b", text] bulk, ["i", n] integer,
["a", [...]] array, ["m", [[k, v], ...]] map, ["set", [...]] set, ["n"] null.
"""
import json, os, socket, subprocess, sys, tempfile, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port)); self.f = self.s.makefile("rb")
    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out); return self.read()
    def line(self):
        return self.f.readline()[:-2].decode("utf-8", "replace")
    def read(self):
        t = self.f.read(1); l = self.line()
        if t == b"+": return ["s", l]
        if t == b"-": raise RuntimeError(l)
        if t == b":": return ["i", int(l)]
        if t == b"$":
            n = int(l)
            if n < 0: return ["n"]
            d = self.f.read(n + 2)[:-2]; return ["b", d.decode("utf-8", "replace")]
        if t in (b"*", b"~"):
            n = int(l)
            if n < 0: return ["n"]
            return ["a" if t == b"*" else "set", [self.read() for _ in range(n)]]
        if t == b"%": return ["m", [[self.read(), self.read()] for _ in range(int(l))]]
        if t == b"_": return ["n"]
        raise RuntimeError("unexpected type %r" % t)

def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "redis-server"
    port = free_port(); d = tempfile.mkdtemp()
    # Defaults as shipped: only the port and the working directory differ (SableDB overrides both).
    srv = subprocess.Popen([binary, "--port", str(port), "--dir", d],
                           stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try: c = Conn(port); break
            except OSError: time.sleep(0.05)
        c.call("HELLO", "3")
        version = [v for k, v in c.call("HELLO", "3")[1] if k[1] == "version"][0][1]
        infos = c.call("COMMAND", "INFO")[1]
        docs = dict((k[1], v) for k, v in c.call("COMMAND", "DOCS")[1])
        out = {"redis_version": version, "commands": {}}
        for info in infos:
            name = info[1][0][1]
            out["commands"][name] = {"info": info, "docs": docs.get(name, ["m", []])}
        path = os.path.join(os.path.dirname(__file__), "..", "libsable", "src", "commands", "meta.json")
        with open(path, "w") as f:
            json.dump(out, f, separators=(",", ":"), sort_keys=True)
        conf = c.call("CONFIG", "GET", "*")[1]
        defaults = dict((k[1], v[1]) for k, v in conf)
        cpath = os.path.join(os.path.dirname(__file__), "..", "libsable", "src", "config", "redis_defaults.json")
        os.makedirs(os.path.dirname(cpath), exist_ok=True)
        with open(cpath, "w") as f:
            json.dump(defaults, f, indent=0, sort_keys=True)
        print("wrote %d config parameters to %s" % (len(defaults), cpath))
        print("wrote %d commands from redis %s to %s" % (len(out["commands"]), version, path))
    finally:
        srv.terminate(); srv.wait()

main()
