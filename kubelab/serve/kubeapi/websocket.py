"""Just enough RFC 6455 for the Kubernetes exec protocol: the server handshake and binary frames
(each payload starts with the channel byte of the *.channel.k8s.io subprotocols)."""
from __future__ import annotations

import base64
import hashlib
import struct

__all__ = ["accept_key", "frame", "read_frame", "CLOSE", "BINARY", "TEXT", "PING", "PONG"]

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept: base64(SHA-1(key + the RFC's GUID))."""
    return base64.b64encode(hashlib.sha1((key.strip() + GUID).encode()).digest()).decode()


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame (servers never mask)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def _exact(rfile, n: int) -> bytes | None:
    data = rfile.read(n)
    return data if data is not None and len(data) == n else None


def read_frame(rfile) -> tuple[int, bytes] | None:
    """(opcode, unmasked payload) of the next frame, or None when the connection ended."""
    head = _exact(rfile, 2)
    if head is None:
        return None
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    masked = head[1] & 0x80
    if length == 126:
        ext = _exact(rfile, 2)
        if ext is None:
            return None
        length = struct.unpack("!H", ext)[0]
    elif length == 127:
        ext = _exact(rfile, 8)
        if ext is None:
            return None
        length = struct.unpack("!Q", ext)[0]
    mask = _exact(rfile, 4) if masked else b"\0\0\0\0"
    payload = _exact(rfile, length) if length else b""
    if mask is None or payload is None:
        return None
    if masked:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload
