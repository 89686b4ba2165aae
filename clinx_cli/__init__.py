"""The ``clinx`` command: the one place that may import the server (``app``), training (``model_export``) and bulk
(``clinx_bulk``).

Subcommands import lazily: ``clinx serve`` never imports torch, and the server image, which installs no
training dependencies, runs ``clinx serve`` from the same package.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from app.settings import Settings


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting, same name as the environment variable (CLINX_MAX_BATCH_TOKENS: --max-batch-tokens)."""
    for name, field in Settings.model_fields.items():
        flag = "--" + name.replace("_", "-")
        if field.annotation is bool:
            parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None,
                                help=field.description)
        else:
            parser.add_argument(flag, dest=name, default=None, help=f"{field.description or ''} "
                                f"(env CLINX_{name.upper()}, default {field.default})")


def _serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from app.server import serve

    given = {name: value for name, value in vars(args).items() if name in Settings.model_fields and value is not None}
    try:
        settings = Settings(**given)
    except ValidationError as error:
        first = error.errors()[0]
        print(f"clinx serve: setting {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return 2
    return serve(settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clinx", description="CLIN-X clinical concept extraction: train, export, serve."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve a model bundle over HTTP")
    _add_settings_flags(serve)
    serve.set_defaults(handler=_serve)

    from clinx_cli import keys

    keys.add_parser(commands)

    for name, help_text in (
        ("train", "fine-tune a token tagger on an annotated corpus"),
        ("export", "export a trained checkpoint to a verified ONNX bundle"),
        ("evaluate", "span-level precision/recall/F1 of a bundle or checkpoint on a corpus"),
        ("demo", "build the demo bundle (MiniLM on a synthetic corpus) if it is missing"),
        ("bulk", "run a bundle over a note archive on Apache Spark (Parquet out; needs the bulk extra)"),
    ):
        sub = commands.add_parser(name, help=help_text, add_help=False)
        sub.set_defaults(handler=_delegate(name))
    return parser


def _delegate(name: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        if name == "bulk":
            return _bulk(args.rest)
        from model_export import commands

        handler = getattr(commands, name)
        result: int = handler(args.rest)
        return result

    return run


def _bulk(argv: Sequence[str]) -> int:
    """``clinx bulk`` lives in ``clinx_bulk`` (pyspark): neither the server nor training imports it."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        print("clinx bulk: pyspark is not installed: pip install 'clinx-serve[bulk,serve]' (and Java 17)",
              file=sys.stderr)
        return 2
    from clinx_bulk.cli import main as bulk_main

    return bulk_main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] in ("train", "export", "evaluate", "demo", "bulk"):
        args = argparse.Namespace(command=argv[0], rest=argv[1:], handler=_delegate(argv[0]))
    else:
        args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result
