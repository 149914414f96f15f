"""What the command lines of the private servers share (moodle-pg, moodle-mysql):
start, stop and status of the server an env file records, the options of those
subcommands, the environment a `check` reads, and main()'s one-line errors.

An env file records the server a command started (its settings and its directory,
under <PREFIX>_ROOT) for the commands after it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from moodle_analytics import cli_options
from moodle_analytics.moodle_db.local_server import LocalServer

AddCommand = Callable[[str, str, Callable[[argparse.Namespace], int]], argparse.ArgumentParser]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except the empty ones the help text already explains."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


class ServerCommands:
    """The subcommands every private server's command line has, for one server class
    (its command name, env prefix, marker file and env file come from the class)."""

    def __init__(self, server_class: type[LocalServer]):
        self.server_class = server_class
        self.prog = server_class.command

    def say(self, message: str) -> None:
        print(f"{self.prog}: {message}", flush=True)

    def read_env(self, env_file: Path) -> dict[str, str]:
        return self.server_class.read_env_values(env_file)

    def recorded_values(self, env_file: Path) -> dict[str, str]:
        """The env file's variables; none if there is no file."""
        return self.read_env(env_file) if env_file.exists() else {}

    def add_to_env_file(self, env_file: Path, values: dict[str, str]) -> None:
        """Record ``values`` (logins) in the env file beside what it holds."""
        self.server_class.write_env_values(env_file, {**self.recorded_values(env_file), **values})

    def recorded(self, env_file: Path):
        """The server an env file describes, or None if the file records none."""
        root_variable = f"{self.server_class.env_prefix}_ROOT"
        if not env_file.exists() or root_variable not in self.read_env(env_file):
            return None
        return self.server_class.from_env_file(env_file)

    def cmd_start(self, args: argparse.Namespace) -> int:
        """Start a server that stays up, unless the env file's is running."""
        cli_options.output_file(args.env_file, "--env-file")
        recorded = self.recorded(args.env_file)
        if recorded is not None:
            if recorded.is_running():
                cli_options.warn(
                    self.prog,
                    f"a server is already running on port {recorded.port} ({args.env_file}); "
                    f"`{self.prog} stop` first",
                )
                return 1
            if recorded.root is not None and (recorded.root / recorded.marker_file).exists():
                recorded.stop()
        server = self.server_class(
            args.port,
            database=args.database,
            base_dir=args.base_dir,
            install=args.install,
            persistent=True,
        )
        server.start()
        server.write_env_file(args.env_file)
        self.say(
            f"{server.server_name} on {server.host}:{server.port}, database {server.database}, "
            f"data in {server.data_dir}\n{self.prog}: settings in {args.env_file} "
            f"(source {args.env_file})"
        )
        return 0

    def cmd_stop(self, args: argparse.Namespace) -> int:
        env_file = args.env_file
        server = self.recorded(env_file)
        if server is None:
            self.say(f"no server recorded in {env_file}; nothing to stop")
            return 0
        if server.root is not None and not server.root.exists():
            self.say(f"{server.root} is gone; removing stale {env_file}")
        else:
            server.stop()
            self.say(f"stopped the server on port {server.port} and removed its data")
        env_file.unlink()
        return 0

    def running(self, env_file: Path):
        """The env file's server if it runs; else None, having said why."""
        server = self.recorded(env_file)
        if server is None or not server.is_running():
            why = (
                f"no server recorded in {env_file}"
                if server is None
                else f"stale {env_file}; `{self.prog} stop` tidies it"
            )
            self.say(f"not running ({why})")
            return None
        return server

    def load(self, load: Callable, where: str, errors: tuple[type[BaseException], ...]) -> int:
        """Run ``load(log)`` (the engine's load_moodle) and say what it loaded: 0, or the
        exit status of a failure, which leaves the Moodle tables ``where`` as they were."""
        try:
            result = load(lambda message: self.say(f"  {message}"))
        except errors as error:
            kept = f"the Moodle tables in {where} are as they were"
            return cli_options.fail(self.prog, f"{cli_options.one_line(error)} ({kept})")
        log_rows = result.row_counts["logstore_standard_log"]
        seconds = result.seconds["total"]
        self.say(f"{result.total_rows:,} rows ({log_rows:,} log rows) in {seconds:.1f} s")
        return 0

    def environ(self, env_file: Path | None) -> dict[str, str]:
        """The environment, with an env file's variables over it (a `check` reads these)."""
        environ = dict(os.environ)
        if env_file is not None:
            environ.update(self.read_env(env_file))
        return environ

    # -- the parser ----------------------------------------------------------------------
    def parser(self, description: str) -> tuple[argparse.ArgumentParser, AddCommand]:
        """The command line's parser, and add(name, help, func) for its subcommands."""
        parser = cli_options.parser(
            self.prog, description, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        commands = parser.add_subparsers(dest="command", required=True)

        def add(name: str, help_text: str, func) -> argparse.ArgumentParser:
            sub = commands.add_parser(name, help=help_text, formatter_class=HelpFormatter)
            sub.set_defaults(func=func)
            return sub

        return parser, add

    def add_env_file(self, parser: argparse.ArgumentParser) -> None:
        what = "shell export lines with the server's connection settings"
        cli_options.add_env_file(parser, self.server_class.default_env_file, what)

    def add_check_env_file(self, parser: argparse.ArgumentParser) -> None:
        what = "take the settings from this file of export lines (default: the environment)"
        cli_options.add_env_file(parser, None, what)

    def add_server_commands(
        self, add: AddCommand, database: str, status: Callable[[argparse.Namespace], int]
    ) -> None:
        """start (port, database, base directory, whether to install the server's package
        when its programs are missing), stop and status."""
        start = add("start", "start a private server that stays up", self.cmd_start)
        self.add_env_file(start)
        start.add_argument("--port", type=int, help="TCP port on 127.0.0.1 (default: a free one)")
        start.add_argument(
            "--database", default=database, help="database to create for the Moodle tables"
        )
        start.add_argument("--base-dir", type=Path, help="where to make the temporary directory")
        start.add_argument(
            "--install",
            action=argparse.BooleanOptionalAction,
            default=True,
            help=f"apt-get install {self.server_class.package} if the server's programs are "
            "missing (root only)",
        )
        stop = add("stop", "stop the server and delete its data directory", self.cmd_stop)
        self.add_env_file(stop)
        self.add_env_file(add("status", "report whether the server is up (exit 3 if not)", status))

    def add_load_options(self, load: argparse.ArgumentParser) -> None:
        """A load's options: the server's env file, the copy of the Moodle tables,
        --replace and --strict."""
        self.add_env_file(load)
        cli_options.add_moodle_source(load, required=True)
        for flag, what in (
            ("--replace", "drop and reload Moodle tables already there"),
            (
                "--strict",
                "fail, rather than warn, when the source breaks one of Moodle's unique indexes",
            ),
        ):
            load.add_argument(flag, action="store_true", help=what)

    # -- running ---------------------------------------------------------------------------
    def run(
        self,
        args: argparse.Namespace,
        errors: tuple[type[BaseException], ...],
        engine_error: type[BaseException],
        engine: str,
    ) -> int:
        """Run the subcommand; a known error is one line and status 2 (the database's own
        errors, ``engine_error``, led by the ``engine``'s name)."""
        try:
            return args.func(args)
        except (cli_options.InputError, OSError, *errors) as error:
            return cli_options.fail(self.prog, error)
        except engine_error as error:
            return cli_options.fail(self.prog, f"{engine}: {str(error).strip()}")
