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


class CountingSocket:
    """A socket stand-in that records each ``sendall``."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.sends = sock, []  # type: ignore[var-annotated]

    def sendall(self, data: bytes) -> None:
        self.sends.append(bytes(data))
        self.sock.sendall(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self.sock, name)


def test_a_held_head_goes_with_a_small_first_piece_in_one_send() -> None:
    left, right = socket.socketpair()
    with left, right:
        counted = CountingSocket(left)
        writer = SocketWriter(left, "wb")
        writer._socket = counted  # type: ignore[assignment]
        writer.hold_next()
        writer.write(b"HTTP/1.1 207 Multi-Status\r\n\r\n")
        assert counted.sends == []  # kept
        writer.write(b"<small body/>")
        writer.write(b"more")
        assert counted.sends == [b"HTTP/1.1 207 Multi-Status\r\n\r\n<small body/>", b"more"]
        assert writer.bytes_written == 29 + 13 + 4


def test_a_held_head_goes_alone_before_a_large_piece_or_when_sent() -> None:
    left, right = socket.socketpair()  # its buffer takes all of this unread
    with left, right:
        counted = CountingSocket(left)
        writer = SocketWriter(left, "wb")
        writer._socket = counted  # type: ignore[assignment]
        large = b"x" * (SocketWriter.HOLD_JOINS + 1)
        writer.hold_next()
        writer.write(b"HEAD")
        writer.write(large)  # not joined: no copy of a large piece
        writer.hold_next()
        writer.write(b"HEAD-ONLY")
        writer.send_held()  # a HEAD or 204 answer: nothing follows
        writer.send_held()  # nothing left: nothing sent
        assert counted.sends == [b"HEAD", large, b"HEAD-ONLY"]


def test_fill_available_reads_what_is_there_without_waiting() -> None:
    left, right = socket.socketpair()
    right.settimeout(30)  # as cheroot sets it: non-blocking underneath
    with left, right:
        reader = SocketReader(right, "rb")
        assert reader.fill_available()  # nothing yet: at once, still open
        left.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert reader.fill_available() and reader.head_complete(8192)
        assert right.gettimeout() == 30
        left.close()
        assert reader.readline() == b"GET / HTTP/1.1\r\n"
        assert not reader.fill_available()  # the peer closed


def test_writes_on_a_socket_with_a_timeout_arrive_whole() -> None:
    """With a timeout (cheroot's), a write goes to the descriptor first and what the
    socket buffer did not take goes by ``sendall``: nothing lost, nothing twice."""
    left, right = socket.socketpair()
    left.settimeout(30)
    right.settimeout(30)
    with left, right:
        writer = SocketWriter(left, "wb")
        received = bytearray()

        def drain() -> None:
            while len(received) < 5 + len(DATA) and (piece := right.recv(1 << 16)):
                received.extend(piece)

        reading = threading.Thread(target=drain)
        reading.start()
        writer.hold_next()
        writer.write(b"HEAD:")
        writer.write(DATA)  # far more than a socket buffer takes at once
        reading.join()
        assert bytes(received) == b"HEAD:" + DATA
