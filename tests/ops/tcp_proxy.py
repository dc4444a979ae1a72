"""A TCP proxy the test controls, between the bot and PostgreSQL or Redis: it forwards until the test
cuts it, then either resets every connection and refuses new ones (a server gone: "reset"), or holds
all traffic without a word (a network partition: "blackhole"), until the test restores it."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class TcpProxy:
    target_host: str
    target_port: int
    port: int = 0
    mode: str = "open"            # open | reset | blackhole
    _server: asyncio.Server | None = None
    _flowing: asyncio.Event = field(default_factory=asyncio.Event)
    _pipes: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    connections: int = 0

    async def start(self) -> int:
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def url(self, template: str) -> str:
        """`template` with the target's host:port replaced by the proxy's."""
        return template.replace(f"{self.target_host}:{self.target_port}", f"127.0.0.1:{self.port}")

    def cut(self, mode: str = "reset") -> None:
        self.mode = mode
        if mode == "blackhole":
            self._flowing.clear()
            return
        self._flowing.set()          # connections held by a partition now meet the reset
        for client, upstream in list(self._pipes):
            for writer in (client, upstream):
                with contextlib.suppress(Exception):
                    writer.transport.abort()
        self._pipes.clear()

    def restore(self) -> None:
        self.mode = "open"
        self._flowing.set()

    async def close(self) -> None:
        self.cut("reset")
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "reset":
            writer.transport.abort()
            return
        await self._flowing.wait()               # a partition: the connection waits, unanswered
        if self.mode == "reset":
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        pipe = (writer, up_writer)
        self._pipes.add(pipe)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink, pipe))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter,
                    pipe: tuple[asyncio.StreamWriter, asyncio.StreamWriter]) -> None:
        try:
            while data := await source.read(65536):
                await self._flowing.wait()
                if pipe not in self._pipes:
                    return
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._pipes.discard(pipe)
            for writer in pipe:
                with contextlib.suppress(Exception):
                    writer.close()
