"""``clinx keys``: named clients in the keys file a running server re-reads (no restart).

    clinx keys add ehr-interface --file keys.txt     # prints the new key once; only its hash is stored
    clinx keys rotate ehr-interface --file keys.txt  # a new key; the old one is refused from the next reload
    clinx keys revoke research --file keys.txt       # every key of the client
    clinx keys list --file keys.txt                  # names and key fingerprints (hash prefixes)
    clinx keys migrate --file keys.txt               # a pre-clients file of plain keys, hashed in place

``--file`` defaults to ``CLINX_API_KEYS_FILE``. The key goes to stdout (and nowhere else); what
happened goes to stderr, so ``KEY=$(clinx keys add NAME --file F)`` captures the key alone.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.keys import KeysFileError, add_key, migrate, read_keys, revoke, rotate

RELOAD_NOTE = "a running server picks the change up within CLINX_KEYS_RELOAD_S (2 s) or on SIGHUP"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    keys = commands.add_parser("keys", help="add, rotate, revoke and list named clients in the keys file")
    actions = keys.add_subparsers(dest="action", required=True)
    for action, help_text in (("add", "a new client (or, with --another, a second key for one)"),
                              ("rotate", "replace a client's keys with a new one"),
                              ("revoke", "remove a client's keys"),
                              ("list", "clients and key fingerprints"),
                              ("migrate", "hash a file of plain keys in place (one client per key)")):
        sub = actions.add_parser(action, help=help_text)
        if action in ("add", "rotate", "revoke"):
            sub.add_argument("name", help="client name: letters, digits, ._- (shown in logs, metrics, audit)")
        sub.add_argument("--file", type=Path, default=None,
                         help="the keys file (default: CLINX_API_KEYS_FILE)")
        if action == "add":
            sub.add_argument("--another", action="store_true", help="give an existing client a second key")
        if action == "revoke":
            sub.add_argument("--fingerprint", help="only the key whose fingerprint (clinx keys list) starts so")
        if action == "migrate":
            sub.add_argument("--prefix", default="client", help="names given: PREFIX-1, PREFIX-2, ...")
    keys.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path = args.file or (Path(os.environ["CLINX_API_KEYS_FILE"]) if os.environ.get("CLINX_API_KEYS_FILE") else None)
    if path is None:
        print("clinx keys: give --file or set CLINX_API_KEYS_FILE", file=sys.stderr)
        return 2
    try:
        if args.action in ("add", "rotate"):
            key = add_key(path, args.name, another=args.another) if args.action == "add" else rotate(path, args.name)
            print(key)
            print(f"clinx keys: {args.action}: client {args.name!r} in {path}; the key above is shown once and "
                  f"stored nowhere (only its sha256); {RELOAD_NOTE}", file=sys.stderr)
        elif args.action == "revoke":
            removed = revoke(path, args.name, args.fingerprint)
            print(f"clinx keys: revoked {removed} key(s) of client {args.name!r} in {path}; {RELOAD_NOTE}",
                  file=sys.stderr)
        elif args.action == "list":
            for entry in read_keys(path):
                print(f"{entry.name}\t{entry.fingerprint}")
        else:
            names = migrate(path, args.prefix)
            print(f"clinx keys: hashed {len(names)} plain key(s) in {path} as {', '.join(names) or 'none'}; the "
                  f"same keys keep working under these names (rename them with an editor if you like)",
                  file=sys.stderr)
    except KeysFileError as error:
        print(f"clinx keys: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"clinx keys: {path}: {type(error).__name__}: {error.strerror}", file=sys.stderr)
        return 1
    return 0
