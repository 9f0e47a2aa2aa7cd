"""Put Solara's front end where its server looks for it, so the dashboard renders offline.

Solara serves its JavaScript application (and KaTeX for markdown maths) through a proxy that fetches
them from a CDN on first use and caches them under `<prefix>/share/solara/cdn/<name>@<version>/`.
These machines reach package registries only, so this script fetches the same packages from the npm
registry (`npm pack`) and unpacks each into that cache. The versions are read from the installed
Solara (its page template and markdown component), so a Solara upgrade fetches what it asks for.

    python scripts/solara_assets.py            # into this interpreter's prefix (the project's .venv)

Idempotent: a package already unpacked (its package.json present) is skipped. Run by `make venv`.
"""

import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path


VERSION = r"(?:@[\w-]+/)?[\w.-]+@\d+\.\d+\.\d+(?:-[\w.]+)?"     # name@1.2.3 or @scope/name@1.2.3-alpha.2


def wanted() -> list[str]:
    """name@version of the front-end packages the installed Solara loads through its CDN proxy at an
    exact version: those its page template names (the Vuetify app of the installed ipyvuetify's major
    version, requirejs), its Font Awesome stylesheet, and those its widgets and components import
    (the grid layout SolaraViz arranges views in; KaTeX and Mermaid, which solara.Markdown loads)."""
    import ipyvuetify
    import solara
    from solara.server import settings
    root = Path(solara.__file__).parent
    template = root / "server" / "templates" / "solara.html.j2"
    other = "solara-vuetify-app" if int(ipyvuetify.__version__.split(".")[0]) >= 3 else "solara-vuetify3-app"
    packages = {p for p in re.findall(rf"\{{\{{ ?cdn ?\}}\}}/({VERSION})/", template.read_text())
                if not p.startswith(f"@widgetti/{other}@")}
    packages |= set(re.findall(rf"^/?({VERSION})/", settings.assets.fontawesome_path))
    for source in [*root.glob("widgets/vue/*.vue"), *root.glob("components/*.py")]:
        packages |= set(re.findall(rf"getCdn\(\)\}}/({VERSION})/", source.read_text()))
    if not any("/solara-vuetify" in p for p in packages):
        sys.exit(f"solara_assets: no Vuetify app version found in {template}")
    return sorted(packages)


def install(package: str, cache: Path) -> bool:
    """Unpack one npm package into the cache; False when it was already there."""
    target = cache / package
    if (target / "package.json").is_file():
        return False
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run(["npm", "pack", "--json", "--pack-destination", tmp, package], capture_output=True,
                           text=True)
        if p.returncode != 0:
            sys.exit(f"solara_assets: npm pack {package} failed: {(p.stderr.strip().splitlines() or ['?'])[-1]}")
        tgz = Path(tmp) / json.loads(p.stdout)[0]["filename"].replace("@", "").replace("/", "-")
        staging = Path(tmp) / "unpacked"
        with tarfile.open(tgz) as tar:
            tar.extractall(staging, filter="data")       # npm tarballs hold one folder, package/
        target.parent.mkdir(parents=True, exist_ok=True)
        (staging / "package").rename(target)
    return True


def main() -> None:
    cache = Path(sys.prefix) / "share" / "solara" / "cdn"
    for package in wanted():
        print(f"solara_assets: {package} {'unpacked' if install(package, cache) else 'present'} in {cache}")


if __name__ == "__main__":
    main()
