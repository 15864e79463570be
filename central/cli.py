"""``anju central …``: serve the API, verify the audit chain, create nodes and users."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from central.audit.log import record, verify_chain
from central.core.secrets import SecretFileError
from central.core.settings import load_settings
from central.db.auth_models import ROLES
from central.db.migrate import upgrade
from central.db.registry_models import LEVELS, HierarchyNode
from central.db.session import make_engine, make_session_factory
from central.ingest.cli import register_ingest
from central.ingest.mqtt import BrokerError
from central.ingest.runtime import build_ingest
from central.registry.nodes import HierarchyError, add_node
from central.reports.availability import offline_after
from central.reports.schedule import ReportScheduler
from central.users import UserError, create_user

EXIT_FAILED = 1
EXIT_ERROR = 2


def register(commands: Any) -> None:
    """Add the ``central`` command group to the root parser."""
    central = commands.add_parser("central", help="the central service").add_subparsers(
        required=True
    )
    serve = central.add_parser("serve", help="migrate the database and serve the API")
    _config_option(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--no-ingest",
        action="store_true",
        help="serve the API only; run `anju central ingest` workers separately",
    )
    serve.set_defaults(handler=_serve)
    audit = central.add_parser("audit", help="the audit log").add_subparsers(required=True)
    verify = audit.add_parser("verify", help="check the audit log's hash chain")
    _config_option(verify)
    verify.set_defaults(handler=_verify)
    nodes = central.add_parser("nodes", help="hierarchy nodes").add_subparsers(required=True)
    node = nodes.add_parser("create", help="add a hierarchy node; prints its id")
    _config_option(node)
    node.add_argument("--name", required=True)
    node.add_argument("--level", choices=LEVELS, required=True)
    node.add_argument("--parent", default=None, help="parent node id (none for a city)")
    node.set_defaults(handler=_create_node)
    users = central.add_parser("users", help="user accounts").add_subparsers(required=True)
    user = users.add_parser("create", help="add a user; password from stdin or a prompt")
    _config_option(user)
    user.add_argument("--username", required=True)
    user.add_argument("--role", choices=ROLES, required=True)
    user.add_argument("--scope-node", required=True, help="hierarchy node id the user sees")
    user.set_defaults(handler=_create_user)
    register_ingest(central)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="YAML with a central section")


def _sessions(args: argparse.Namespace) -> Session:
    settings = load_settings(args.config)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return make_session_factory(engine)()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from central.api.app import create_app

    settings = load_settings(args.config)
    upgrade(make_engine(settings.database_url))
    try:
        app = create_app(settings)
        context = app.state.ctx
        runtime = None
        if not args.no_ingest:
            runtime = build_ingest(settings, context.secrets, context.sessions, sink=context.bus)
    except (SecretFileError, BrokerError) as exc:
        print(f"anju: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    alive_for = offline_after(settings.rules.device_offline)
    reports = ReportScheduler(context.sessions, settings.reports, alive_for)
    if runtime is not None:
        runtime.start()
    if settings.reports.enabled:
        reports.start()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_config=None)
    finally:
        reports.stop()
        if runtime is not None:
            runtime.stop()
    return 0


def _verify(args: argparse.Namespace) -> int:
    with _sessions(args) as session:
        report = verify_chain(session)
    if report.ok:
        print(f"audit chain intact: {report.rows} rows")
        return 0
    print(f"audit chain BROKEN at row {report.broken_at}: {report.reason}", file=sys.stderr)
    return EXIT_FAILED


def _create_node(args: argparse.Namespace) -> int:
    with _sessions(args) as session:
        parent = session.get(HierarchyNode, args.parent) if args.parent else None
        if args.parent and parent is None:
            print(f"anju: error: no node {args.parent}", file=sys.stderr)
            return EXIT_ERROR
        try:
            node = add_node(session, args.name, args.level, parent)
        except HierarchyError as exc:
            print(f"anju: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        record(session, "cli", "node.create", node.id, None, {"level": args.level})
        session.commit()
    print(node.id)
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\n")


def _create_user(args: argparse.Namespace) -> int:
    with _sessions(args) as session:
        if session.get(HierarchyNode, args.scope_node) is None:
            print(f"anju: error: no node {args.scope_node}", file=sys.stderr)
            return EXIT_ERROR
        try:
            create_user(session, args.username, _read_password(), args.role, args.scope_node)
        except UserError as exc:
            print(f"anju: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        record(session, "cli", "user.create", args.username, None, {"role": args.role})
        session.commit()
    print(f"created {args.role} {args.username}")
    return 0
