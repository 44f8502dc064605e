"""Many WebSocket clients read by one thread, so an arrival is timed when the kernel has it.

A thread per socket (simple_websocket's Client runs two) times each message only once that
thread gets the bench process's GIL: with 200 sockets receiving the same push, the last one
waits for the other 199 to be parsed, and bench/live.py reported that wait as push latency.
Here one epoll loop takes the time as it wakes, before it reads any socket: every socket it
reports readable already held its bytes then.
"""

import base64
import os
import selectors
import socket
import struct
import time
import zlib
from collections.abc import Callable
from urllib.parse import urlsplit

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
# What Chromium offers in every handshake: the server may compress each message per socket.
BROWSER_EXTENSIONS = "permessage-deflate; client_max_window_bits"


def connect(url: str, headers: dict[str, str], timeout: float = 10.0) -> tuple[socket.socket, bool]:
    """Open a WebSocket (ws://host:port/path) offering compression as browsers do, and finish
    its handshake; returns the socket and whether the server compresses. Raises if refused."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    lines = [
        f"GET {parts.path or '/'} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
        f"Sec-WebSocket-Extensions: {BROWSER_EXTENSIONS}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("the server closed the socket during the handshake")
        answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"handshake refused: {head.splitlines()[0].decode()}")
    if rest:
        raise ConnectionError("the server sent a frame before the client read its handshake")
    sock.setblocking(False)
    return sock, b"permessage-deflate" in head.lower()


class FrameBuffer:
    """The bytes one socket has received, cut into whole messages (server frames are unmasked)."""

    def __init__(self, compressed: bool = False):
        self.data = bytearray()
        self.fragments: list[bytes] = []
        self.deflated = False  # the message being received was compressed (RSV1)
        # One inflater per socket: the server may keep its window from message to message.
        self.inflater = zlib.decompressobj(-15) if compressed else None

    def feed(self, chunk: bytes) -> list[tuple[int, bytes]]:
        """Add received bytes; return the (opcode, payload) of every message now complete."""
        self.data += chunk
        messages = []
        while (frame := self._frame()) is not None:
            fin, opcode, payload, rsv1 = frame
            if opcode in (TEXT, BINARY):
                self.deflated = rsv1
            if opcode == CONTINUATION or not fin:
                self.fragments.append(payload)
                if not fin:
                    continue
                payload, opcode = b"".join(self.fragments), TEXT
                self.fragments = []
            if opcode == TEXT and self.deflated:
                payload = self.inflater.decompress(payload + b"\x00\x00\xff\xff")
            messages.append((opcode, payload))
        return messages

    def _frame(self) -> tuple[bool, int, bytes, bool] | None:
        if len(self.data) < 2:
            return None
        first, second = self.data[0], self.data[1]
        length, offset = second & 0x7F, 2
        if length == 126:
            if len(self.data) < 4:
                return None
            (length,), offset = struct.unpack_from("!H", self.data, 2), 4
        elif length == 127:
            if len(self.data) < 10:
                return None
            (length,), offset = struct.unpack_from("!Q", self.data, 2), 10
        if len(self.data) < offset + length:
            return None
        payload = bytes(self.data[offset : offset + length])
        del self.data[: offset + length]
        return bool(first & 0x80), first & 0x0F, payload, bool(first & 0x40)


def masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask), for pongs and the closing frame."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


def read_all(
    sockets: list[tuple[socket.socket, bool]],
    on_message: Callable[[str, float], None],
    stopping: Callable[[], bool],
) -> None:
    """Read every socket until `stopping()` or the server has closed them all.

    `on_message(text, arrived)` gets each text message with the monotonic time at which the
    loop woke up to read it.
    """
    selector = selectors.DefaultSelector()
    for sock, compressed in sockets:
        selector.register(sock, selectors.EVENT_READ, FrameBuffer(compressed))
    while selector.get_map() and not stopping():
        ready = selector.select(timeout=0.2)
        arrived = time.monotonic()
        for key, _ in ready:
            sock, buffer = key.fileobj, key.data
            try:
                chunk = sock.recv(1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            messages = buffer.feed(chunk) if chunk else [(CLOSE, b"")]
            for opcode, payload in messages:
                if opcode == TEXT:
                    on_message(payload.decode(), arrived)
                elif opcode == PING:
                    sock.sendall(masked(PONG, payload))
                elif opcode == CLOSE:
                    selector.unregister(sock)
                    break


def close_all(sockets: list[tuple[socket.socket, bool]]) -> None:
    """Say goodbye with a close frame (1000) and close each socket."""
    for sock, _ in sockets:
        try:
            sock.setblocking(True)
            sock.sendall(masked(CLOSE, struct.pack("!H", 1000)))
        except OSError:
            pass
        sock.close()
