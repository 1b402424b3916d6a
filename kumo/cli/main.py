"""The `kumo` command."""

from __future__ import annotations

import argparse
import json
import sys

from kumo.common.config import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kumo", description="Kumo: a real, small OpenStack.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the cloud (safe to run again)")
    down = sub.add_parser("down", help="stop every Kumo process")
    down.add_argument("--purge", action="store_true", help="also delete the state directory")
    down.add_argument(
        "--all",
        dest="everything",
        action="store_true",
        help="remove every Kumo namespace, device and nftables table on this host, "
        "not only this cloud's",
    )
    sub.add_parser("status", help="show each service and its health")
    logs = sub.add_parser("logs", help="show logs")
    logs.add_argument("service", nargs="?")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-n", "--lines", type=int, default=200)
    trace = sub.add_parser("trace", help="show a server's actions and boot journey as a timeline")
    trace.add_argument("server", help="server id or name")
    serve = sub.add_parser("serve", help="run one role in the foreground")
    serve.add_argument("--role", default="all")
    sub.add_parser("supervise", help=argparse.SUPPRESS)
    config = sub.add_parser("config", help="settings")
    config.add_argument("action", choices=["show"])
    identity = sub.add_parser("identity", help="identity administration")
    identity.add_argument("action", choices=["rotate-keys"])
    db = sub.add_parser("db", help="database administration")
    db.add_argument("action", choices=["sync", "version"])
    image = sub.add_parser("image", help="guest images")
    image.add_argument("action", choices=["build"])
    image.add_argument("--force", action="store_true", help="rebuild even when up to date")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `kumo` console script."""
    args = _parser().parse_args(argv)
    settings = Settings()
    if args.command == "up":
        from kumo.cli.up import up

        up(settings)
    elif args.command == "down":
        from kumo.cli.down import down

        down(settings, args.purge, everything=args.everything)
    elif args.command == "status":
        from kumo.cli.status import status

        return status(settings)
    elif args.command == "logs":
        from kumo.cli.logs import logs

        logs(settings, args.service, args.follow, args.lines)
    elif args.command == "trace":
        from kumo.cli.trace import trace

        return trace(settings, args.server)
    elif args.command == "serve":
        from kumo.cli.serve import serve

        serve(settings, args.role)
    elif args.command == "supervise":
        from kumo.cli.state import StateDir
        from kumo.cli.supervisor import main as supervise

        StateDir(settings).ensure()
        roles = [arg for role in settings.roles for arg in ("--role", role)]
        supervise(
            ["--state-dir", str(settings.state_dir), "--log-level", settings.log_level, *roles]
        )
    elif args.command == "config":
        print(json.dumps(settings.masked(), indent=2, sort_keys=True))
    elif args.command == "identity":
        from kumo.identity.service.keys import KeyRepository

        repo = KeyRepository(settings.state_dir / "fernet-keys", settings.fernet_max_active_keys)
        primary = repo.rotate()
        print(f"Rotated the token keys; primary key is now {primary}; keys kept: {repo.indexes()}")
    elif args.command == "db":
        from kumo.common.db import Database

        database = Database(settings.effective_database_url)
        if args.action == "sync":
            database.upgrade()
        print(f"database revision: {database.current_revision()}")
    elif args.command == "image":
        from kumo.cli.image_build import image_build

        return image_build(settings, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
