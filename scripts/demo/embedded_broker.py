"""The demo's fallback MQTT broker: amqtt (MQTT 3.1.1, in memory) on 127.0.0.1 only.

Run as a child process: ``python scripts/demo/embedded_broker.py --port PORT``; SIGTERM or
SIGINT shuts it down. Any client that gives a user name is let in without a password (nothing
but this machine can reach the port): amqtt keeps neither a persistent session nor an offline
queue for a client it marks anonymous, and the nodes and central rely on both.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

log = logging.getLogger("scripts.demo.embedded_broker")


def broker_config(port: int) -> dict[str, Any]:
    """amqtt's configuration: one TCP listener on 127.0.0.1:``port``, a user name required."""
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False}},
    }


async def serve(port: int) -> None:
    """Run the broker until SIGTERM or SIGINT, then shut it down."""
    from amqtt.broker import Broker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    broker = Broker(broker_config(port))
    await broker.start()
    log.info("embedded broker running kind=amqtt protocol=3.1.1 port=%d", port)
    await stop.wait()
    await broker.shutdown()
    log.info("embedded broker stopped port=%d", port)


def main(argv: list[str] | None = None) -> int:
    """Serve on ``--port`` until told to stop; 0 on a clean stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("transitions").setLevel(logging.WARNING)
    asyncio.run(serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
