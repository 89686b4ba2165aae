"""Running the app under uvicorn, with a drain on SIGTERM that Kubernetes can rely on."""

from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn

from app.keys import KeysFileError
from app.logging import configure_audit, configure_logging
from app.main import create_app
from app.metrics import Metrics
from app.settings import Settings
from app.state import ServerState

log = logging.getLogger("clinx.server")


class DrainingServer(uvicorn.Server):
    """First SIGTERM/SIGINT: readiness off, new requests 503, in-flight ones finish, then exit."""

    def __init__(self, config: uvicorn.Config, state: ServerState, grace_s: float) -> None:
        super().__init__(config)
        self.state = state
        self.grace_s = grace_s
        self.exit_code = 0
        self._draining: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: object) -> None:
        if self._draining is not None or self.should_exit:
            return super().handle_exit(sig, frame)  # type: ignore[arg-type]
        loop = asyncio.get_event_loop()
        loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        self._draining = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        await self.state.drain(self.grace_s)
        self.should_exit = True

    def fail(self, reason: str) -> None:
        self.exit_code = 1
        self.should_exit = True


def serve(settings: Settings) -> int:
    configure_logging(settings.log_level)
    server: DrainingServer | None = None

    def fail(reason: str) -> None:
        if server is not None:
            server.fail(reason)

    state = ServerState(settings, Metrics(), on_failure=fail)
    try:
        configure_audit(settings.audit_log_level, settings.audit_log_file)
        app = create_app(settings, state)
        for path in (settings.tls_cert_file, settings.tls_key_file):
            if path is not None and not path.is_file():
                raise OSError(f"TLS file {path} not found")
    except (KeysFileError, OSError) as error:
        print(f"clinx serve: start-up failed: {error}", file=sys.stderr)
        return 2
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=max(1, int(settings.drain_grace_s)),
        server_header=False,
        # Optional TLS for deployments without an ingress (deploy/ terminates TLS at the ingress).
        ssl_certfile=settings.tls_cert_file,
        ssl_keyfile=settings.tls_key_file,
    )
    server = DrainingServer(config, state, settings.drain_grace_s)
    server.run()
    if state.failure:
        print(f"clinx serve: start-up failed: {state.failure}", file=sys.stderr)
    return server.exit_code or (1 if state.failure else 0)
