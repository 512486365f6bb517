"""Tests for the ``ntclick`` command line entry point itself (--help, --version)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ntclick
from ntclick.cli import build_parser, main


def test_version_in_process(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"ntclick {ntclick.__version__}"


def test_no_command_prints_help_and_succeeds(capsys):
    assert main([]) == 0
    assert "usage: ntclick" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_parser_lists_registered_subcommands():
    parser = build_parser()
    help_text = parser.format_help()
    assert help_text.startswith("usage: ntclick")
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:
        assert name in help_text


@pytest.mark.parametrize(("args", "expected"), [(["--help"], "usage: ntclick"), (["--version"], "ntclick ")])
def test_module_entry_point_in_a_subprocess(args, expected):
    result = subprocess.run(
        [sys.executable, "-m", "ntclick", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    if args == ["--version"]:
        assert result.stdout.strip() == f"ntclick {ntclick.__version__}"


def test_console_script(tmp_path):
    script = Path(sys.executable).parent / "ntclick"
    if not script.is_file():
        pytest.skip("the ntclick console script is not installed next to this Python")
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ntclick {ntclick.__version__}"


def test_help_does_not_import_torch():
    # Registering subcommands must stay light: heavy imports belong in the handlers.
    code = "import sys; from ntclick.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
