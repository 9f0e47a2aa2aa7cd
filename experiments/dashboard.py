"""hemsim-dashboard: serve the interactive dashboard (Mesa SolaraViz) on this machine.

    hemsim-dashboard                      # http://127.0.0.1:8765
    hemsim-dashboard --port 8777 --host 0.0.0.0

The page (sim/dashboard/app.py) runs a scenario and its baseline at the same seed and shows world
outcomes, the largest corridors and one country's talent balance as the model steps. The server is
Solara's (`solara run`, production mode); its front end is served from the local cache that
`make venv` fills (scripts/solara_assets.py), so the page needs no internet.
"""

import argparse
import os
import sys
from pathlib import Path

from experiments import preflight
from sim.errors import UserError


class _Parser(argparse.ArgumentParser):
    def error(self, message):                       # one line, exit 2 (argparse prints usage first)
        raise UserError(f"{message} (usage: hemsim-dashboard [--port P] [--host H])")


def parse(argv: list[str]) -> argparse.Namespace:
    p = _Parser(prog="hemsim-dashboard", description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8765, help="TCP port (1-65535; default 8765)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)")
    args = p.parse_args(argv)
    if not 1 <= args.port <= 65535:
        raise UserError(f"--port={args.port}: must be from 1 to 65535")
    if not args.host or any(c.isspace() for c in args.host):
        raise UserError(f"--host={args.host!r}: must be a host name or address such as 127.0.0.1")
    return args


def command(args: argparse.Namespace) -> list[str]:
    return [sys.executable, "-m", "solara", "run", "sim.dashboard.app", "--host", args.host, "--port",
            str(args.port), "--production", "--no-open", "--log-level", "warning"]


def main(argv: list[str] | None = None) -> None:
    try:
        args = parse(sys.argv[1:] if argv is None else argv)
        cache = Path(sys.prefix) / "share" / "solara" / "cdn"
        if not any(cache.glob("@widgetti/solara-vuetify*-app@*/package.json")):
            raise UserError(f"no Solara front end in {cache}: run `make venv` (scripts/solara_assets.py) to fetch it")
    except UserError as e:
        preflight.fail(str(e))
    env = os.environ | {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}   # no calls home from an offline machine
    print(f"hemsim-dashboard: http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    os.execve(sys.executable, command(args), env)


if __name__ == "__main__":
    main()
