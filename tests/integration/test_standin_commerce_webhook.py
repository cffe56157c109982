"""The stand-in Commerce's hook client behaves as Commerce's curl does with a kept-alive connection the server has
closed meanwhile (gunicorn closes idle ones after its keepalive): the call goes out again on a new connection."""

from __future__ import annotations

import socket
import threading

import pytest

from standins.commerce_webhook import ConnectionPool, HookUnreachable

ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"op":"success"}'


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    lengths = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")]
    length = lengths[0] if lengths else 0
    while len(body) < length:
        body += connection.recv(65536)
    return body


def _server(answer: bool) -> tuple[socket.socket, list[bytes], threading.Thread]:
    """One request per connection, then the connection is closed without saying so (no ``Connection: close``):
    after answering, or (``answer`` False) without a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                received.append(_read_request(connection))
                if answer:
                    connection.sendall(ANSWER)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, received, thread


def _stop(listener: socket.socket, thread: threading.Thread) -> None:
    listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (closing alone does not, on Linux)
    listener.close()
    thread.join(timeout=5)


def test_a_kept_alive_connection_the_server_closed_is_replaced_and_the_call_goes_through() -> None:
    listener, received, thread = _server(answer=True)
    pool = ConnectionPool()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    try:
        assert pool.post(url, b'{"n":1}', {"Content-Type": "application/json"}, 5) == (200, b'{"op":"success"}')
        assert pool.post(url, b'{"n":2}', {"Content-Type": "application/json"}, 5) == (200, b'{"op":"success"}')
    finally:
        _stop(listener, thread)
    assert received == [b'{"n":1}', b'{"n":2}']  # each arrived once: the closed connection carried nothing


def test_a_new_connection_closed_without_an_answer_is_unreachable_and_not_sent_again() -> None:
    listener, received, thread = _server(answer=False)
    try:
        with pytest.raises(HookUnreachable):
            ConnectionPool().post(f"http://127.0.0.1:{listener.getsockname()[1]}/hook", b'{"n":1}', {}, 5)
    finally:
        _stop(listener, thread)
    assert received == [b'{"n":1}']
