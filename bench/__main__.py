"""`python -m bench run`: measure jwp and the peer job queues, print and write the table.

Needs Redis and MariaDB (defaults: 127.0.0.1:6379 and root@127.0.0.1:3306)
and, for the peer rows, `pip install -e '.[bench]'`. A peer that is missing
or fails is reported in the table as failed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
from pathlib import Path

from .deployments import Services
from .peers.run import PEERS
from .profiles import summarize_folder
from .run import VARIANT_NAMES, WORKLOADS, Options, run

MODES = ("scalable", "standalone")


def _names(text: str, allowed: tuple[str, ...], kind: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {kind} {', '.join(unknown)}; choose from {', '.join(allowed)}"
        )
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the benchmarks")
    run_parser.add_argument("--jobs", type=int, default=20000, help="no-op jobs per system")
    run_parser.add_argument(
        "--direct-jobs", type=int, default=2000, help="DIRECT jobs and echo round trips timed"
    )
    run_parser.add_argument("--command-jobs", type=int, default=2000, help="COMMAND `true` jobs")
    run_parser.add_argument(
        "--in-flight", type=int, default=64, help="requests a jwp, arq or echo client keeps open"
    )

    run_parser.add_argument(
        "--only",
        type=lambda text: _names(text, WORKLOADS, "workload"),
        default=WORKLOADS,
        help=f"comma-separated workloads (default all: {','.join(WORKLOADS)})",
    )
    run_parser.add_argument(
        "--peers",
        type=lambda text: _names(text, tuple(PEERS), "peer"),
        default=tuple(PEERS),
        help=f"comma-separated peers for the no-op workload (default {','.join(PEERS)}); "
        "give an empty string for none",
    )
    run_parser.add_argument(
        "--modes",
        type=lambda text: _names(text, MODES, "mode"),
        default=MODES,
        help="comma-separated jwp modes (default scalable,standalone)",
    )
    run_parser.add_argument(
        "--variants",
        type=lambda text: _names(text, tuple(VARIANT_NAMES), "variant"),
        default=tuple(VARIANT_NAMES),
        help="comma-separated jwp no-op runs: enqueue (one Enqueue per job), batch "
        "(EnqueueBatch), stored (results stored in MariaDB, Scalable only); default all",
    )

    run_parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    run_parser.add_argument(
        "--redis-db",
        type=int,
        default=13,
        help="Redis database for jwp and the peers; only keys this run created are deleted",
    )
    run_parser.add_argument(
        "--mysql-url",
        default="mysql://root@127.0.0.1:3306",
        help="MariaDB/MySQL user that may create and drop a database jwp_bench_*",
    )

    run_parser.add_argument(
        "--output", type=Path, default=Path("bench-results.md"), help="Markdown file to write"
    )
    run_parser.add_argument(
        "--jwp-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra setting for the jwp processes, e.g. --jwp-env JWP_UVLOOP=true",
    )
    run_parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record the jwp processes with py-spy into DIR and write DIR/summary.md",
    )
    return parser


def main() -> None:
    arguments = _parser().parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    jwp_env = dict(item.split("=", 1) for item in arguments.jwp_env)
    if arguments.profile is not None:
        arguments.profile.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jwp-bench-") as folder:
        options = Options(
            jobs=arguments.jobs,
            direct_jobs=arguments.direct_jobs,
            command_jobs=arguments.command_jobs,
            in_flight=arguments.in_flight,
            only=arguments.only,
            peers=arguments.peers,
            modes=arguments.modes,
            services=Services(arguments.redis_url, arguments.mysql_url, arguments.redis_db),
            folder=Path(folder),
            jwp_env=jwp_env,
            profile_dir=arguments.profile,
            variants=arguments.variants,
        )
        report = asyncio.run(run(options))
    if arguments.profile is not None:
        summary = summarize_folder(arguments.profile)
        (arguments.profile / "summary.md").write_text(summary, encoding="utf-8")
        print(summary)
    text = report.render()
    arguments.output.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\nwritten to {arguments.output}")


if __name__ == "__main__":
    main()
