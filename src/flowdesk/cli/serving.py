"""`flowdesk serve --workers N`: N server processes, each with its own listening socket.

uvicorn's own `--workers` hands one listening socket to every process, and whichever process
wakes first accepts: a burst of new keep-alive connections often lands on one process while the
other idles (measured: 455 instead of 577 instances/s in benchmarks/api_throughput.py, all the
CPU in one of two processes). Here each process binds the port itself with SO_REUSEPORT, so the
kernel spreads connections over the processes by their addresses. Before the processes start,
the port is bound once without SO_REUSEPORT, so a port that another program (or another
Flowdesk) already serves is an error instead of a silently shared port.

The parent only supervises: a process that dies is started again, SIGINT / SIGTERM stop them
all. Each process builds its app from the environment (`app_from_environment`).
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import socket
import threading
from typing import Any

from flowdesk.core.errors import ConfigurationError

APP = "flowdesk.api.app:app_from_environment"
STARTUP_FAILURE = 3


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port_free(host: str, port: int) -> None:
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot listen on {host}:{port}: {exc.strerror}; stop what serves that port or "
            "choose another with --port"
        ) from None
    finally:
        probe.close()


def _serve_one(host: str, port: int, log_level: str) -> None:
    """One worker process: its own SO_REUSEPORT socket, one uvicorn server."""
    import uvicorn

    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc.strerror}", flush=True)
        raise SystemExit(STARTUP_FAILURE) from None
    sock.listen(2048)
    # X-Forwarded-* only from FLOWDESK_TRUSTED_PROXIES, in the app (flowdesk.api.app)
    config = uvicorn.Config(APP, factory=True, log_level=log_level, proxy_headers=False)
    uvicorn.Server(config).run(sockets=[sock])


def serve_workers(host: str, port: int, workers: int, log_level: str) -> None:
    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover - not on Linux / macOS
        import uvicorn

        uvicorn.run(
            APP,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            proxy_headers=False,
        )
        return
    check_port_free(host, port)
    ctx = mp.get_context("spawn")
    stop = threading.Event()

    def start() -> Any:
        process = ctx.Process(target=_serve_one, args=(host, port, log_level), daemon=False)
        process.start()
        return process

    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    processes = [start() for _ in range(workers)]
    try:
        while not stop.wait(0.5):
            for i, process in enumerate(processes):
                if process.is_alive() or process.exitcode == 0:
                    continue  # serving, or shut down cleanly (Ctrl-C reaches them too)
                if process.exitcode == STARTUP_FAILURE:
                    stop.set()
                    break
                processes[i] = start()  # it died serving: replace it
            if not any(p.is_alive() for p in processes):
                break
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        for process in processes:
            process.join(30)
            if process.is_alive():  # pragma: no cover - a process stuck in shutdown
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if any(p.exitcode == STARTUP_FAILURE for p in processes):
        raise ConfigurationError(f"the server processes could not listen on {host}:{port}")
