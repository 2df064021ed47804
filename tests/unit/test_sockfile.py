"""Socket files: large reads and whole writes keep every byte in order."""

from __future__ import annotations

import socket
import threading

from davprovider.server.sockfile import SocketReader, SocketWriter

DATA = bytes(range(251)) * 8000  # 2,008,000 bytes, a pattern that shows misplaced bytes


def test_large_and_small_reads_of_whole_writes_keep_the_bytes_in_order():
    left, right = socket.socketpair()
    with left, right:
        writer = SocketWriter(left, "wb")
        reader = SocketReader(right, "rb")
        header = b"PUT /f HTTP/1.1\r\n"
        sender = threading.Thread(target=lambda: (writer.write(header + DATA), left.close()))
        sender.start()
        assert reader.readline() == header  # through cheroot's own buffer
        parts = [reader.read(10)]  # small: buffered path
        while piece := reader.read(300_000):  # large: straight into one buffer
            parts.append(piece)
        sender.join()
        assert b"".join(parts) == DATA
        assert writer.bytes_written == len(header) + len(DATA)
        assert reader.bytes_read == len(header) + len(DATA)


def test_lines_are_cut_from_the_buffer_or_read_on_as_before() -> None:
    left, right = socket.socketpair()
    with left, right:
        reader = SocketReader(right, "rb")
        left.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 40)
        assert reader.readline() == b"GET / HTTP/1.1\r\n"  # the first fills the buffer
        assert reader.readline(4) == b"Host"  # a line longer than the limit: cut at it
        assert reader.readline() == b": x\r\n"  # cut from the buffer
        threading.Timer(0.05, lambda: left.sendall(b"b\r\n\r\n")).start()
        assert reader.readline() == b"X-Long: " + b"a" * 40 + b"b\r\n"  # waits for its end
        assert reader.readline() == b"\r\n"
        left.close()
        assert reader.readline() == b""
        assert reader.bytes_read == 16 + 9 + 51 + 2
