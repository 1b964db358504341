"""A TCP proxy in front of the tests' PostgreSQL that a test can cut off, to play a database that
stops or stops answering without touching the cluster other tests share.

    proxy = PgProxy(pg_cluster.port); await proxy.start()
    url = proxy.url(db_url)          # the same database, through the proxy
    await proxy.down()               # as if PostgreSQL stopped: every connection reset, port closed
    await proxy.hang()               # as if its host stopped answering: connections reset, new
                                     # ones accepted but nothing forwarded
    await proxy.up()                 # forwarding again
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit


class PgProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._hanging = False
        self.port = 0

    def url(self, database_url: str) -> str:
        """`database_url` with host and port replaced by the proxy's."""
        parts = urlsplit(database_url)
        userinfo = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{self.port}"))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self._reset_all()
        await asyncio.sleep(0.05)  # let the clients see their connections go

    async def hang(self) -> None:
        self._hanging = True
        self._reset_all()
        if self._server is None:
            await self.start()
        await asyncio.sleep(0.05)

    async def up(self) -> None:
        self._hanging = False
        self._reset_all()  # held connections: the client gave up on them long ago
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        await self.down()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _reset_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        if self._hanging:
            return  # accepted, held open, never answered
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(up_writer)
        for task in (
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
            with contextlib.suppress(KeyError):
                self._writers.remove(writer)
