"""``anju central ingest`` (run a worker) and ``anju central broker-config`` (write mosquitto.conf).

Register with ``register_ingest(central_subparsers)``; also runnable as
``python -m central.ingest.cli ingest --config central.yaml``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from central.broker.mosquitto import BrokerConfig, render_mosquitto_conf
from central.core.secrets import SecretFileError, load_secrets
from central.core.settings import load_settings
from central.db.migrate import upgrade
from central.db.session import make_engine, make_session_factory
from central.ingest.mqtt import BrokerError
from central.ingest.runtime import build_ingest
from models.config_file import load_config
from models.errors import ModelError

logger = logging.getLogger(__name__)
EXIT_ERROR = 2
BROKER_SECTION = "broker"


def register_ingest(central: Any) -> None:
    """Add ``ingest`` and ``broker-config`` to the ``anju central`` subcommands."""
    ingest = central.add_parser("ingest", help="run an MQTT ingest worker (rules, galleries)")
    ingest.add_argument("--config", type=Path, default=None, help="YAML with a central section")
    ingest.set_defaults(handler=run_ingest)
    broker = central.add_parser("broker-config", help="print mosquitto.conf for production")
    broker.add_argument("--config", type=Path, required=True, help="YAML with a broker section")
    broker.add_argument("--output", type=Path, default=None, help="write here, not stdout")
    broker.set_defaults(handler=write_broker_config)


def run_ingest(args: argparse.Namespace) -> int:
    """Run until SIGTERM or SIGINT; what is unacknowledged stays in the broker session."""
    settings = load_settings(args.config)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    try:
        secrets = load_secrets(settings)
        runtime = build_ingest(settings, secrets, make_session_factory(engine, secrets.at_rest_key))
    except (SecretFileError, BrokerError) as exc:
        print(f"anju: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runtime.start()
    logger.info("ingest running client_id=%s", settings.mqtt.client_id)
    stop.wait()
    runtime.stop()
    logger.info("ingest stopped")
    return 0


def write_broker_config(args: argparse.Namespace) -> int:
    """Print (or write) the Mosquitto configuration of the ``broker`` section."""
    config = load_config(args.config, BrokerConfig, BROKER_SECTION)
    text = render_mosquitto_conf(config)
    if args.output is None:
        print(text, end="")
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point (the same subcommands as under ``anju central``)."""
    from anju.logs import setup_logging

    parser = argparse.ArgumentParser(prog="central-ingest")
    parser.add_argument("--log-level", default="info")
    register_ingest(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    setup_logging(args.log_level, False)
    try:
        status: int = args.handler(args)
    except ModelError as exc:
        print(f"anju: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return status


if __name__ == "__main__":
    sys.exit(main())
