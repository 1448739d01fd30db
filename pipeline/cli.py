"""Command line: ``python -m pipeline <stage>``; the CLI only wires stages together."""

from __future__ import annotations

import _thread
import argparse
import contextlib
import gc
import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from pipeline.config import Context, Paths, load_settings
from pipeline.runner import resolve_jobs

STAGES: dict[str, str] = {
    "ingest": "pipeline.ingest.stage",
    "extract": "pipeline.extract.stage",
    "analyze": "pipeline.analyze.stage",
    "report": "pipeline.report.stage",
}
HELP = {
    "ingest": "read every memo in the raw folder (PDF, text, Markdown): documents.csv, units.csv",
    "extract": "find organizations, countries, regions, recommendations: entities.csv, "
    "recommendations.csv",
    "analyze": "themes, their shares per conference, distinctive terms, recurring recommendations",
    "report": "charts in reports/figures, reports/index.html and reports/summary.md",
    "run": "all stages in order, skipping those whose inputs have not changed",
    "evaluate": "precision, recall and F1 against every gold corpus (tests/gold), in a scratch folder",
}

EXAMPLES = """examples:
  python -m pipeline run                          everything, on raw/ (what `make` does)
  python -m pipeline run --raw memos/ --jobs 4    another folder, four worker processes
  python -m pipeline ingest --strict              exit 1 when a file could not be read
  python -m pipeline extract --model en_core_web_md
  python -m pipeline run --scheduler tcp://10.0.0.5:8786   per-document work on a Dask cluster
  python -m pipeline COMMAND --help               the options of one command
"""


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--raw", type=Path, default=Path("raw"), help="folder of input memos (default: raw)"
    )
    common.add_argument(
        "--processed",
        type=Path,
        default=Path("processed"),
        help="folder of tables (default: processed)",
    )
    common.add_argument(
        "--reports", type=Path, default=Path("reports"), help="folder of reports (default: reports)"
    )
    common.add_argument(
        "--config",
        type=Path,
        default=None,
        help="settings file (default: ./pipeline.toml if present)",
    )
    common.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes for per-document work (default: all cores)",
    )
    common.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run per-document work on a Dask cluster, e.g. tcp://host:8786",
    )
    common.add_argument(
        "--force", action="store_true", help="recompute even when inputs are unchanged"
    )
    common.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 1 when any document could not be read",
    )
    common.add_argument(
        "--model",
        default=None,
        help="spaCy pipeline to load (default from settings: en_core_web_sm)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Turn conference memos into tables, theme charts and a report.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options()
    for name, text in HELP.items():
        sub_parser = sub.add_parser(name, parents=[common], help=text, description=text)
        if name == "evaluate":
            sub_parser.add_argument(
                "--gold",
                type=Path,
                nargs="*",
                default=None,
                help="gold files, or folders with gold.json and docs/ (default: every corpus in tests/gold)",
            )
            sub_parser.add_argument(
                "--json", type=Path, default=None, metavar="FILE", help="also write the figures as JSON"
            )
            sub_parser.add_argument(
                "--no-baselines",
                action="store_true",
                help="skip the plain-spaCy and keyword baselines",
            )
    return parser


CLUSTER_MISSING = "error: --scheduler needs Dask's distributed scheduler: pip install '.[cluster]'"


def make_context(args: argparse.Namespace) -> Context:
    if args.scheduler and importlib.util.find_spec("distributed") is None:
        raise SystemExit(CLUSTER_MISSING)
    overrides = {}
    if args.model:
        overrides["extract"] = {"model": args.model}
    settings = load_settings(args.config, **overrides)
    jobs = args.jobs if args.jobs is not None else int(settings["run"].get("jobs", 0))
    return Context(
        paths=Paths(raw=args.raw, processed=args.processed, reports=args.reports),
        settings=settings,
        jobs=resolve_jobs(jobs),
        scheduler=args.scheduler,
        force=args.force,
        strict=args.strict,
    )


def _stage(name: str) -> Callable[[Context], object]:
    return import_module(STAGES[name]).run


def entry() -> None:
    """The command's entry point: ``main()`` run as a batch job rather than a library call.

    - The stages hold tables of millions of small Python objects. At CPython's default
      threshold (a collection every 700 new containers) the collector rescans them over and
      over; a collection every 100,000 new containers still bounds what reference cycles
      can hold.
    - Tearing the interpreter down unloads spaCy, scikit-learn and matplotlib and frees
      every object one by one (library teardown, not table size). Every output has been
      written, renamed into place and closed when ``main()`` returns, so the process
      flushes its standard streams and exits at once.

    Together they save 0.7-1.1 s of a run, at any corpus size.

    A Ctrl-C that lands inside a callback Python cannot let an exception out of (the
    logging lock released around a fork) is delivered again (``_interrupt_again``), so it
    still stops the run, without a traceback.
    """
    gc.set_threshold(100_000, 20, 100)
    sys.unraisablehook = _interrupt_again
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing left to say to it
            stream.flush()
    os._exit(code)


def _interrupt_again(unraisable: sys.UnraisableHookArgs) -> None:
    """A KeyboardInterrupt Python had to swallow: raised again a moment later in the main thread,
    where it can stop the run; anything else as Python reports it."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        # raised in this hook it would be swallowed again: a moment later, from a thread
        threading.Timer(0.01, _thread.interrupt_main).start()
        return
    sys.__unraisablehook__(unraisable)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ctx = make_context(args)
    if args.command == "evaluate":
        from pipeline.evaluate import main as evaluate

        return evaluate(ctx, gold_files=args.gold, baselines=not args.no_baselines, json_path=args.json)
    names = list(STAGES) if args.command == "run" else [args.command]
    try:
        _run_stages(ctx, names)
    except KeyboardInterrupt:
        print("interrupted: the previous complete outputs are kept", file=sys.stderr)
        return 130
    return _exit_code(ctx)


def _run_stages(ctx: Context, names: list[str]) -> None:
    """The stages in order; each skips itself when its inputs have not changed."""
    for name in names:
        _stage(name)(ctx)


def _exit_code(ctx: Context) -> int:
    """Non-zero only when the user asked for --strict and some document failed."""
    if not ctx.strict:
        return 0
    from pipeline.tableio import read_table

    documents = ctx.paths.table("documents")
    if documents.exists() and (read_table(documents)["status"] == "error").any():
        print("strict: some documents could not be read", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
