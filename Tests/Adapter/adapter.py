#!/usr/bin/env python3
"""A v2 VFIO migration device in Python, served over the migconform adapter protocol (Specs/ADAPTER.md).

It is a complete, conformant device written from the Linux uAPI text: the MIG_DEVICE_STATE state machine with
STOP_COPY, P2P and PRE_COPY, combination transitions by shortest permitted path, data sessions with their fds,
VFIO_MIG_GET_PRECOPY_INFO, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, and the checks the VFIO core makes on every
VFIO_DEVICE_FEATURE call. Its migration stream carries a SHA-256 trailer, so a truncated, corrupted or overlong
resume is refused.

It doubles as a test fixture: options make it hang, crash, or answer garbage or a wrong id on chosen requests.

    python3 adapter.py [--flags stop-copy,p2p,pre-copy] [--state-size N] [--no-data-size]
                       [--hang-on OP[:ARG]] [--crash-on OP[:ARG]] [--garbage-on OP[:ARG]] [--wrong-id-on OP[:ARG]]
                       [--answer-on OP[:ARG]=JSON] [--generation v1|v2] [--once FILE]

OP is a request name (set-state, read, ...); with :ARG the fault hits only requests whose main argument (the state
of set-state, the fd of read/write/close/precopy-info, the flags of feature, the offset of config-read) equals ARG.
--answer-on replaces the answer to matching requests by the JSON object given (its id is kept): a misbehaving
device, e.g. --answer-on 'get-state={"result":"value","value":1}'. --generation makes hello claim a generation
other than the one the device speaks.
--once FILE makes the faults fire only while FILE does not exist, and creates it when one fires: the fault then
happens once, even across restarts of the adapter. Options may also come from the PYADAPTER_OPTIONS variable.

Standard library only; stdout carries nothing but protocol lines, diagnostics go to stderr.
"""

import argparse
import base64
import hashlib
import json
import os
import shlex
import struct
import sys
import time
from collections import deque

PROTOCOL_VERSION = 3

# enum vfio_device_mig_state
ERROR, STOP, RUNNING, STOP_COPY, RESUMING, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P = range(8)
STATE_NR = 8
NAMES = ["ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING", "RUNNING_P2P", "PRE_COPY", "PRE_COPY_P2P"]
SAVING = {STOP_COPY, PRE_COPY, PRE_COPY_P2P}

# VFIO_MIGRATION_* flags
F_STOP_COPY, F_P2P, F_PRE_COPY = 1, 2, 4
FLAG_NAMES = {"stop-copy": F_STOP_COPY, "p2p": F_P2P, "pre-copy": F_PRE_COPY}

# struct vfio_device_feature flags
FEAT_MASK, FEAT_GET, FEAT_SET, FEAT_PROBE = 0xFFFF, 1 << 16, 1 << 17, 1 << 18
FEAT_MIGRATION, FEAT_MIG_DEVICE_STATE, FEAT_MIG_DATA_SIZE = 1, 2, 9
FEAT_DMA_LOGGING_START = 6
FEAT_DMA_LOGGING_STOP = 7
FEAT_DMA_LOGGING_REPORT = 8
DMA_MAX_RANGES = 256           # as many 16-byte ranges as fit in a 4 KiB page

VFIO_PCI_NUM_IRQS = 5


class Fail(Exception):
    """A request the device refuses, with the errno name it returns."""

    def __init__(self, errno_name):
        super().__init__(errno_name)
        self.errno_name = errno_name


def log(*parts):
    print("adapter.py:", *parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# The migration stream: "PYMS", format 1, payload length, payload, SHA-256 of everything before the digest.

MAGIC = b"PYMS"
FORMAT = 1
HEADER = struct.Struct("<4sHHQ")       # magic, format, reserved, payload length
DIGEST = 32
MAX_PAYLOAD = 1 << 30


def encode_stream(payload):
    head = HEADER.pack(MAGIC, FORMAT, 0, len(payload))
    return head + payload + hashlib.sha256(head + payload).digest()


class Incoming:
    """A resume stream arriving in arbitrary pieces. Refuses bytes past the length its header declares."""

    def __init__(self):
        self.buf = bytearray()
        self.total = None       # known once the header is complete
        self.poisoned = None    # why the stream can no longer be loaded

    def offer(self, data):
        if self.poisoned:
            raise Fail("EINVAL")
        combined = len(self.buf) + len(data)
        if self.total is None and combined >= HEADER.size:
            head = bytes((self.buf + data[:HEADER.size])[:HEADER.size])
            magic, fmt, _, size = HEADER.unpack(head)
            if magic != MAGIC or fmt != FORMAT or size > MAX_PAYLOAD:
                self.poisoned = "bad header"
                raise Fail("EINVAL")
            self.total = HEADER.size + size + DIGEST
        if self.total is not None and combined > self.total:
            self.poisoned = "write past the end of the stream"
            raise Fail("EINVAL")
        self.buf += data
        return len(data)

    def payload(self):
        """The loaded state, or None when the stream is incomplete, damaged or was refused a write."""
        if self.poisoned or self.total is None or len(self.buf) != self.total:
            return None
        body, digest = bytes(self.buf[:-DIGEST]), bytes(self.buf[-DIGEST:])
        if hashlib.sha256(body).digest() != digest:
            return None
        return body[HEADER.size:]


class Session:
    """One data transfer session and the fd the user holds for it."""

    def __init__(self, fd, saving):
        self.fd = fd
        self.saving = saving
        self.live = True
        self.stream = b""         # saving: the whole stream, fixed when the session opens
        self.pos = 0
        self.offered = 0          # saving: how far PRE_COPY may read (the initial data)
        self.incoming = None if saving else Incoming()


# ---------------------------------------------------------------------------------------------------------------
# The device

class Device:
    def __init__(self, flags, state_size, data_size, dma_logging=True):
        self.flags = flags
        self.data_size = data_size
        self.dma_logging = dma_logging
        self.log_started = False
        self.log_page_size = 4096
        self.log_dirty = set()    # IOVAs of pages written since the last report (nothing writes here)
        self.state = RUNNING
        self.blob = self.initial_state(state_size)
        self.fds = {}             # fd -> Session, until the user closes the fd
        self.current = None       # the session the state machine is in
        self.next_fd = 40

    @staticmethod
    def initial_state(size):
        out = bytearray()
        counter = 0
        while len(out) < size:
            out += hashlib.sha256(b"pyadapter-state-%d" % counter).digest()
            counter += 1
        return bytes(out[:size])

    # -- which states and arcs exist ---------------------------------------------------------------------------

    def supported(self, s):
        if not self.flags & F_STOP_COPY:
            return False
        need = {STOP: 0, RUNNING: 0, STOP_COPY: 0, RESUMING: 0, RUNNING_P2P: F_P2P,
                PRE_COPY: F_PRE_COPY, PRE_COPY_P2P: F_P2P | F_PRE_COPY}
        return s in need and self.flags & need[s] == need[s]

    def arcs(self):
        """The single-step arcs the uAPI defines for this device's flags."""
        p2p, pre = bool(self.flags & F_P2P), bool(self.flags & F_PRE_COPY)
        out = [(STOP, STOP_COPY), (STOP, RESUMING), (STOP_COPY, STOP), (RESUMING, STOP)]
        if p2p:
            out += [(RUNNING, RUNNING_P2P), (RUNNING_P2P, RUNNING), (RUNNING_P2P, STOP), (STOP, RUNNING_P2P)]
        else:
            out += [(RUNNING, STOP), (STOP, RUNNING)]
        if pre:
            out += [(RUNNING, PRE_COPY), (PRE_COPY, RUNNING)]
            if p2p:
                out += [(PRE_COPY, PRE_COPY_P2P), (PRE_COPY_P2P, PRE_COPY), (PRE_COPY_P2P, RUNNING_P2P),
                        (PRE_COPY_P2P, STOP_COPY), (RUNNING_P2P, PRE_COPY_P2P)]
            else:
                out += [(PRE_COPY, STOP_COPY)]
        return out

    @staticmethod
    def opens_session(a, b):
        return (b in SAVING and a not in SAVING) or b == RESUMING

    def route(self, start, goal):
        """Shortest path of arcs from start to goal on which only the last arc may open a session; None if none.

        STOP_COPY may not go back to a PRE_COPY state by any path (the uAPI forbids the request outright)."""
        if start == STOP_COPY and goal in (PRE_COPY, PRE_COPY_P2P):
            return None
        graph = {}
        for a, b in self.arcs():
            graph.setdefault(a, []).append(b)
        seen = {start: None}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            if here == goal:
                break
            for there in graph.get(here, []):
                if there in seen:
                    continue
                if self.opens_session(here, there) and there != goal:
                    continue
                seen[there] = here
                queue.append(there)
        if goal not in seen:
            return None
        path, node = [], goal
        while node != start:
            path.append(node)
            node = seen[node]
        return list(reversed(path))

    # -- MIG_DEVICE_STATE --------------------------------------------------------------------------------------

    def set_state(self, target):
        if target >= STATE_NR or target == ERROR or not self.supported(target):
            raise Fail("EINVAL")
        if self.state == ERROR:
            raise Fail("EINVAL")
        if target == self.state:
            return -1
        path = self.route(self.state, target)
        if path is None:
            raise Fail("EINVAL")
        fd = -1
        for nxt in path:
            opened = self.step(self.state, nxt)
            if opened is not None:
                fd = opened
        return fd

    def step(self, a, b):
        """Carries out one arc; returns the new fd when the arc opens a session."""
        if a == RESUMING and b == STOP:
            session, self.current = self.current, None
            loaded = session.incoming.payload() if session else None
            if session:
                session.live = False
            if loaded is None:
                self.state = ERROR
                raise Fail("EINVAL")
            self.blob = loaded
            self.state = b
            return None
        if a in SAVING and b not in SAVING:
            self.end_session()
        fd = None
        if self.opens_session(a, b):
            self.end_session()
            session = Session(self.allocate_fd(), saving=(b != RESUMING))
            if session.saving:
                session.stream = encode_stream(self.blob)
                # PRE_COPY offers the header and the first half of the state as initial data.
                session.offered = HEADER.size + len(self.blob) // 2 if b != STOP_COPY else 0
            self.fds[session.fd] = session
            self.current = session
            fd = session.fd
        self.state = b
        return fd

    def allocate_fd(self):
        fd = self.next_fd
        self.next_fd += 1
        return fd

    def end_session(self):
        if self.current:
            self.current.live = False
        self.current = None

    def reset(self):
        self.end_session()
        self.state = RUNNING

    def reopen(self):
        """The device fd closed and opened again: the release ends the session and DMA logging; open is RUNNING."""
        self.end_session()
        self.state = RUNNING
        self.log_started = False
        self.log_dirty = set()

    # -- data fds ----------------------------------------------------------------------------------------------

    def session(self, fd):
        s = self.fds.get(fd)
        if s is None:
            raise Fail("EBADF")
        return s

    def read(self, fd, count):
        s = self.session(fd)
        if not s.saving or count < 0:
            raise Fail("EINVAL")
        if not s.live:
            return b""
        count = min(count, 1 << 24)
        if self.state in (PRE_COPY, PRE_COPY_P2P):
            if s.pos >= s.offered:
                raise Fail("ENOMSG")
            end = min(s.pos + count, s.offered)
        else:
            end = min(s.pos + count, len(s.stream))
        out = s.stream[s.pos:end]
        s.pos = end
        return out

    def write(self, fd, data):
        s = self.session(fd)
        if s.saving or not s.live:
            raise Fail("EINVAL")
        return s.incoming.offer(data)

    def close(self, fd):
        self.session(fd)
        del self.fds[fd]

    def precopy_info(self, fd):
        s = self.session(fd)
        if not s.saving or not s.live or self.state not in (PRE_COPY, PRE_COPY_P2P):
            raise Fail("EINVAL")
        return max(0, s.offered - s.pos), 0

    def data_fd(self, call, req):
        """A system call on a data fd: close-on-exec, one direction, a stream, poll, ioctls."""
        s = self.session(need(req, "fd"))
        if call == "fd-flags":
            return {"result": "value", "value": 1}                    # FD_CLOEXEC
        if call == "status-flags":
            return {"result": "value", "value": 0 if s.saving else 1}  # O_RDONLY / O_WRONLY
        if call in ("seek", "pread", "pwrite"):
            raise Fail("ESPIPE")
        if call == "poll":
            if not s.saving:
                return {"result": "value", "value": 4}                # POLLOUT
            idle = s.live and self.state in (PRE_COPY, PRE_COPY_P2P) and s.pos >= s.offered
            return {"result": "value", "value": 0 if idle else 1}     # POLLIN
        if call == "precopy-info":
            if not s.saving:
                raise Fail("ENOTTY")
            argsz, flags = need(req, "argsz"), need(req, "flags")
            if argsz < 24:
                raise Fail("EINVAL")
            initial, dirty = self.precopy_info(s.fd)
            return {"result": "bytes", "data": b64(struct.pack("<IIQQ", argsz, flags, initial, dirty))}
        if call == "ioctl":
            raise Fail("ENOTTY")
        raise BadRequest("unknown op 'data-fd-%s'" % (call,))

    def stop_copy_length(self):
        return HEADER.size + len(self.blob) + DIGEST

    # -- VFIO_DEVICE_FEATURE, checked the way the VFIO core checks it ----------------------------------------

    def feature(self, flags, payload):
        if flags & ~(FEAT_MASK | FEAT_GET | FEAT_SET | FEAT_PROBE):
            raise Fail("EINVAL")
        get, set_, probe = bool(flags & FEAT_GET), bool(flags & FEAT_SET), bool(flags & FEAT_PROBE)
        if get and set_ and not probe:
            raise Fail("EINVAL")
        index = flags & FEAT_MASK
        ops = {FEAT_MIGRATION: {"get"}, FEAT_MIG_DEVICE_STATE: {"get", "set"}}
        if self.data_size:
            ops[FEAT_MIG_DATA_SIZE] = {"get"}
        if self.dma_logging:
            ops[FEAT_DMA_LOGGING_START] = {"set"}
            ops[FEAT_DMA_LOGGING_STOP] = {"set"}
            ops[FEAT_DMA_LOGGING_REPORT] = {"get"}
        if index not in ops:
            raise Fail("ENOTTY")
        if (get and "get" not in ops[index]) or (set_ and "set" not in ops[index]):
            raise Fail("EINVAL")
        if probe:
            return None
        if not get and not set_:
            raise Fail("EINVAL")
        if index == FEAT_DMA_LOGGING_STOP:
            self.log_stop()
            return None
        if index in (FEAT_DMA_LOGGING_START, FEAT_DMA_LOGGING_REPORT):
            raise Fail("EFAULT")        # their payloads hold pointers, which mean nothing here
        if len(payload) < 8:            # every one of these payloads is 8 bytes
            raise Fail("EINVAL")
        if index == FEAT_MIGRATION:
            return struct.pack("<Q", self.flags)
        if index == FEAT_MIG_DATA_SIZE:
            return struct.pack("<Q", self.stop_copy_length())
        if get:
            return struct.pack("<Ii", self.state, -1)
        (target,) = struct.unpack_from("<I", payload, 0)
        fd = self.set_state(target)
        return struct.pack("<Ii", target, fd)

    # -- DMA logging, with the core's checks first -----------------------------------------------------------

    def log_start(self, page_size, ranges):
        if not self.dma_logging:
            raise Fail("ENOTTY")
        if not ranges:
            raise Fail("EINVAL")
        if len(ranges) > DMA_MAX_RANGES:
            raise Fail("E2BIG")
        seen = []
        for iova, length in ranges:
            if page_size == 0 or iova % page_size or length % page_size:
                raise Fail("EINVAL")
            if iova + length > (1 << 64):
                raise Fail("EOVERFLOW")
            if any(iova < a + n and a < iova + length for a, n in seen):
                raise Fail("EINVAL")
            seen.append((iova, length))
        if self.log_started:
            raise Fail("EBUSY")
        ok = 4096 <= page_size <= (1 << 30) and page_size & (page_size - 1) == 0
        self.log_page_size = page_size if ok else 4096
        self.log_started = True
        self.log_dirty = set()
        return self.log_page_size

    def log_stop(self):
        if not self.dma_logging:
            raise Fail("ENOTTY")
        self.log_started = False
        self.log_dirty = set()

    def log_report(self, iova, length, page_size, bitmap):
        if not self.dma_logging:
            raise Fail("ENOTTY")
        if page_size < 4096 or page_size & (page_size - 1):
            raise Fail("EINVAL")
        if iova + length > (1 << 64):
            raise Fail("EOVERFLOW")
        pages = -(-length // page_size)
        if len(bitmap) < (pages + 63) // 64 * 8:
            raise Fail("EFAULT")
        if not self.log_started:
            raise Fail("EINVAL")
        out = bytearray(bitmap)
        for page in sorted(self.log_dirty):
            if iova <= page < iova + length:
                bit = (page - iova) // page_size
                out[bit // 8] |= 1 << (bit % 8)
        self.log_dirty = set()
        return bytes(out)

    # -- config space ------------------------------------------------------------------------------------------

    CONFIG = bytes([0x36, 0x1B, 0x05, 0x00,       # vendor 0x1b36, device 0x0005
                    0x06, 0x00, 0x10, 0x00,       # command, status (capabilities list)
                    0x00, 0x00, 0xFF, 0x00])      # revision, class: "unassigned"

    def config_read(self, offset, width):
        if width not in (1, 2, 4) or offset < 0 or offset + width > 256 or offset % width:
            raise Fail("EINVAL")
        raw = self.CONFIG[offset:offset + width].ljust(width, b"\0")
        return int.from_bytes(raw, "little")


# ---------------------------------------------------------------------------------------------------------------
# The protocol

def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text.encode("ascii"), validate=True)


class BadRequest(Exception):
    pass


def need(req, key, kind=int):
    if key not in req:
        raise BadRequest("request %r has no %r" % (req.get("op"), key))
    value = req[key]
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise BadRequest("%r of request %r is not an integer" % (key, req.get("op")))
    if kind is bytes:
        if not isinstance(value, str):
            raise BadRequest("%r of request %r is not a base64 string" % (key, req.get("op")))
        try:
            return unb64(value)
        except ValueError:
            raise BadRequest("%r of request %r is not valid base64" % (key, req.get("op")))
    return value


def handle(dev, req):
    """The response fields (without id) for one device request."""
    op = req.get("op")
    try:
        if op == "get-migration-flags":
            return {"result": "value", "value": dev.flags}
        if op == "feature":
            out = dev.feature(need(req, "flags"), need(req, "payload", bytes))
            return {"result": "done"} if out is None else {"result": "bytes", "data": b64(out)}
        if op == "get-state":
            return {"result": "state", "state": dev.state, "data_fd": -1}
        if op == "set-state":
            target = need(req, "state")
            if not 0 <= target <= 0xFFFFFFFF:
                raise BadRequest("state %d is not a u32" % target)
            fd = dev.set_state(target)
            return {"result": "state", "state": target, "data_fd": fd}
        if op == "get-data-size":
            if not dev.data_size:
                raise Fail("ENOTTY")
            return {"result": "value", "value": dev.stop_copy_length()}
        if op == "read":
            return {"result": "bytes", "data": b64(dev.read(need(req, "fd"), need(req, "count")))}
        if op == "write":
            return {"result": "value", "value": dev.write(need(req, "fd"), need(req, "data", bytes))}
        if op == "close":
            dev.close(need(req, "fd"))
            return {"result": "done"}
        if op == "precopy-info":
            initial, dirty = dev.precopy_info(need(req, "fd"))
            return {"result": "precopy", "initial_bytes": initial, "dirty_bytes": dirty}
        if op == "reset":
            dev.reset()
            return {"result": "done"}
        if op == "reopen":
            dev.reopen()
            return {"result": "done"}
        if op == "config-read":
            return {"result": "value", "value": dev.config_read(need(req, "offset"), need(req, "width"))}
        if op == "disable-interrupts":
            if not 0 <= need(req, "index") < VFIO_PCI_NUM_IRQS:
                raise Fail("EINVAL")
            return {"result": "done"}
        if op == "dma-logging-start":
            ranges = need(req, "ranges", list)
            if not isinstance(ranges, list) or len(ranges) > 4096:
                raise BadRequest("'ranges' of request 'dma-logging-start' is not a list of at most 4096 ranges")
            pairs = [(need(r, "iova"), need(r, "length")) for r in ranges if isinstance(r, dict)]
            if len(pairs) != len(ranges):
                raise BadRequest("a range of request 'dma-logging-start' is not an object")
            return {"result": "value", "value": dev.log_start(need(req, "page_size"), pairs)}
        if op == "dma-logging-stop":
            dev.log_stop()
            return {"result": "done"}
        if op == "dma-logging-report":
            out = dev.log_report(need(req, "iova"), need(req, "length"), need(req, "page_size"),
                                 need(req, "bitmap", bytes))
            return {"result": "bytes", "data": b64(out)}
        if op == "access-config-write":
            offset, width = need(req, "offset"), need(req, "width")
            need(req, "value")
            if width not in (1, 2, 4) or offset + width > 256:
                raise Fail("EINVAL")
            return {"result": "done"}         # the fixed header ignores writes
        if op == "access-bar-read":
            index, offset, width = need(req, "index"), need(req, "offset"), need(req, "width")
            if index != 0:
                raise Fail("ENXIO")           # one BAR, 4 KiB of zeros
            if width not in (1, 2, 4) or offset + width > 4096:
                raise Fail("EINVAL")
            return {"result": "value", "value": 0}
        if op == "access-enable-interrupts":
            if not 0 <= need(req, "index") < VFIO_PCI_NUM_IRQS:
                raise Fail("EINVAL")
            return {"result": "done"}
        if op.startswith("data-fd-"):
            return dev.data_fd(op[len("data-fd-"):], req)
        if op in ("region-read", "region-write", "data-read", "data-write"):
            raise Fail("EINVAL")        # a v2 device has no v1 migration region
        if op == "region-info":
            raise Fail("ENOSYS")        # no migration region whose flags it could give
        raise BadRequest("unknown op %r" % (op,))
    except Fail as f:
        return {"result": "failed", "errno": f.errno_name}


MAIN_ARGUMENT = {"set-state": "state", "feature": "flags", "read": "fd", "write": "fd", "close": "fd",
                 "precopy-info": "fd", "config-read": "offset", "disable-interrupts": "index",
                 "region-read": "offset", "region-write": "offset", "data-read": "offset", "data-write": "offset"}


class Faults:
    def __init__(self, opts):
        self.rules = [(kind, spec) for kind in ("hang", "crash", "garbage", "wrong_id")
                      for spec in getattr(opts, kind + "_on") or []]
        self.answers = []
        for spec in opts.answer_on or []:
            match, _, answer = spec.partition("=")
            self.rules.append(("answer:%d" % len(self.answers), match))
            self.answers.append(json.loads(answer))
        self.once = opts.once

    def hit(self, req):
        for kind, spec in self.rules:
            op, _, arg = spec.partition(":")
            if req.get("op") != op:
                continue
            if arg and str(req.get(MAIN_ARGUMENT.get(op, ""), "")) != arg:
                continue
            if self.once:
                if os.path.exists(self.once):
                    continue
                with open(self.once, "w") as f:
                    f.write("%s %s\n" % (kind, spec))
            return kind
        return None


def serve(dev, faults, stdin, stdout, generation="v2"):
    def send(obj):
        stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
        stdout.flush()

    for raw in stdin:
        line = raw.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise BadRequest("a request must be a JSON object")
        except (ValueError, BadRequest) as e:
            log("bad request line:", e)
            send({"id": None, "result": "error", "message": "not a request: %s" % e})
            continue
        rid = req.get("id")
        fault = faults.hit(req)
        if fault == "hang":
            log("hanging on", req.get("op"), "as asked")
            while True:
                time.sleep(3600)
        if fault == "crash":
            log("crashing on", req.get("op"), "as asked")
            os._exit(3)
        if fault == "garbage":
            stdout.write("this is not a protocol line\n")
            stdout.flush()
            continue
        if fault and fault.startswith("answer:"):
            send(dict(faults.answers[int(fault[7:])], id=rid))
            continue
        op = req.get("op")
        if op == "hello":
            send({"id": rid, "result": "hello", "protocol": PROTOCOL_VERSION, "generation": generation,
                  "identity": {"kind": "exec", "driver": "pyadapter",
                               "detail": "Python v2 device (flags 0x%x)" % dev.flags,
                               "extra": {"flags": str(dev.flags), "state-size": str(len(dev.blob)),
                                         "python": sys.version.split()[0]}}})
            continue
        if op == "bye":
            send({"id": rid, "result": "done"})
            return
        try:
            reply = handle(dev, req)
        except BadRequest as e:
            reply = {"result": "error", "message": str(e)}
        send(dict(id=rid + 1000 if fault == "wrong_id" and isinstance(rid, int) else rid, **reply))


def main(argv):
    p = argparse.ArgumentParser(description="A v2 VFIO migration device over the migconform adapter protocol.")
    p.add_argument("--flags", default="stop-copy,p2p,pre-copy",
                   help="advertised migration flags, comma separated (default: all)")
    p.add_argument("--state-size", type=int, default=4096, help="bytes of device state (default 4096)")
    p.add_argument("--no-data-size", action="store_true", help="leave out VFIO_DEVICE_FEATURE_MIG_DATA_SIZE")
    p.add_argument("--no-dma-logging", action="store_true", help="leave out DMA logging (features 6, 7 and 8)")
    for kind in ("hang", "crash", "garbage", "wrong-id"):
        p.add_argument("--%s-on" % kind, action="append", metavar="OP[:ARG]",
                       help="%s on matching requests" % kind)
    p.add_argument("--answer-on", action="append", metavar="OP[:ARG]=JSON",
                   help="answer matching requests with this JSON object instead")
    p.add_argument("--generation", default="v2", help="the generation hello claims (default v2)")
    p.add_argument("--once", metavar="FILE", help="fire faults only while FILE does not exist; create it on firing")
    extra = shlex.split(os.environ.get("PYADAPTER_OPTIONS", ""))
    opts = p.parse_args(argv + extra)
    flags = 0
    for name in filter(None, opts.flags.split(",")):
        if name not in FLAG_NAMES:
            p.error("unknown flag %r (known: %s)" % (name, ", ".join(FLAG_NAMES)))
        flags |= FLAG_NAMES[name]
    dev = Device(flags, opts.state_size, not opts.no_data_size, not opts.no_dma_logging)
    try:
        serve(dev, Faults(opts), sys.stdin, sys.stdout, opts.generation)
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
