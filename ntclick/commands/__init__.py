"""Subcommands of the ``ntclick`` CLI, one module each, discovered by :mod:`ntclick.cli`.

A command module defines ``register(subparsers)`` that adds its parser and sets
``func=handler`` with ``parser.set_defaults``.  It must import nothing heavy at module level.
"""
