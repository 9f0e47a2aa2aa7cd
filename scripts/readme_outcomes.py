"""Write the README's tables of flow kinds and metrics from the outcomes the mechanisms declare.

    .venv/bin/python scripts/readme_outcomes.py          rewrite the two tables in README.md
    .venv/bin/python scripts/readme_outcomes.py --check  exit 1 if README.md is not current

Each table stands between `<!-- outcomes:NAME -->` and `<!-- /outcomes:NAME -->` (NAME: flows, metrics);
rows come from sim.results.outcome_tables (the declarations of the mechanisms in sim/schedule.py, in
output order). tests/test_architecture.py runs the check.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.results import outcome_tables  # noqa: E402
from sim.schedule import SCHEDULE  # noqa: E402


def current(text: str) -> str:
    for name, table in outcome_tables(SCHEDULE).items():
        pattern = re.compile(rf"(<!-- outcomes:{name} -->\n).*?(\n<!-- /outcomes:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md: no <!-- outcomes:{name} --> ... <!-- /outcomes:{name} --> section")
        text = pattern.sub(lambda m: m.group(1) + table + m.group(2), text)
    return text


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    new = current(text)
    if "--check" in sys.argv[1:]:
        if new != text:
            print("README.md: the outcome tables are not current: run scripts/readme_outcomes.py", file=sys.stderr)
            sys.exit(1)
        return
    if new != text:
        readme.write_text(new)
        print("README.md: outcome tables rewritten")


if __name__ == "__main__":
    main()
