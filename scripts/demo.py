"""`make demo`: the whole system on one machine, from nothing running to events and alarms.

Starts a private MQTT broker (Mosquitto when installed, else the embedded amqtt), central
(SQLite in the demo folder, or PostgreSQL when ``DATABASE_URL`` is set), creates a governance
hierarchy with a compound, a gate and an outlet, an admin user, provisions a gate and an outlet
device, enrols residents (faces of the pack's group photo, with consent records; other faces of
the photo stay strangers), issues a visitor QR pass, then runs a gate node and an outlet node on
generated sample videos and prints the dashboard URL. Ctrl-C (or SIGTERM, or ``--duration``)
stops every process it started.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from types import FrameType

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from anju.logs import setup_logging  # noqa: E402
from scripts.demo.broker import BROKER_CHOICES  # noqa: E402
from scripts.demo.procs import Children, DemoError  # noqa: E402
from scripts.demo.run import DemoOptions, reset_workdir, run_demo  # noqa: E402

log = logging.getLogger("scripts.demo")


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def parse_args(argv: list[str] | None) -> DemoOptions:
    """The command line as options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir", type=Path, default=REPO / "var/demo", help="erased and refilled at each run"
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds, then stop")
    parser.add_argument(
        "--broker",
        choices=BROKER_CHOICES,
        default="auto",
        help="auto: Mosquitto when installed, else the embedded Python broker (demo only)",
    )
    args = parser.parse_args(argv)
    return DemoOptions(args.workdir.resolve(), args.duration, args.broker)


def main(argv: list[str] | None = None) -> int:
    """Run the demo until Ctrl-C, SIGTERM or the duration; 0 on a clean stop."""
    options = parse_args(argv)
    setup_logging("info", False)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        reset_workdir(options.workdir)
    except DemoError as exc:
        log.error("step=reset error=%s", exc)
        return 1
    children = Children(options.workdir / "logs")
    status = 0
    try:
        run_demo(options, children)
    except KeyboardInterrupt:
        log.info("step=interrupted")
    except DemoError as exc:
        log.error("step=failed error=%s", exc)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children.stop_all()
        log.info("step=stopped children=none")
    return status


if __name__ == "__main__":
    sys.exit(main())
