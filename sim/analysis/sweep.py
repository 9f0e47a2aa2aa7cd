"""Find the complete runs of a sweep and combine them into one partitioned Parquet dataset.

A run is a directory with a complete manifest (see sim.io). Its scenario and seed come from the
manifest's resolved config; the swept parameters from Hydra's record of the run's overrides
(`.hydra/overrides.yaml`), so a grid over any key becomes columns of the dataset.
"""

from dataclasses import dataclass, field
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from sim.errors import UserError
from sim.io import MANIFEST, read_manifest

AGGREGATE_DIR = "aggregate"
SWEEP_RECORD = "sweep.json"   # written by hydra_plugins/hemsim_launcher/launchers.py
RESERVED = {"scenario", "seed", "sweep", "seeds_per_job", "progress"}


@dataclass
class Run:
    path: Path
    scenario: str
    seed: int
    params: dict[str, str] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)


def find_runs(sweep_dir: Path) -> tuple[list[Run], list[str]]:
    """(complete runs, descriptions of missing or incomplete runs) under sweep_dir, in path order.

    A run is complete when its manifest is complete and its files intact. The sweep's record
    (sweep.json, written by hemsim's launchers) lists every run launched, so a run that never
    started is missing too; without a record, job directories (with Hydra's .hydra/) lacking a
    complete run are.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise UserError(f"{sweep_dir}: no such sweep directory")
    runs = []
    for manifest_path in sorted(sweep_dir.rglob(MANIFEST)):
        run_dir = manifest_path.parent
        if AGGREGATE_DIR in run_dir.relative_to(sweep_dir).parts:
            continue
        manifest = read_manifest(run_dir)
        if manifest is None:
            continue
        try:
            runs.append(Run(run_dir, str(manifest["config"]["scenario"]["name"]), int(manifest["seed"]),
                            _params(manifest.get("overrides", [])), list(manifest.get("overrides", []))))
        except (KeyError, TypeError, ValueError):    # a manifest without a run's fields: not a run of ours
            continue
    return runs, _missing(sweep_dir, runs)


def _missing(sweep_dir: Path, runs: list[Run]) -> list[str]:
    record = sweep_dir / SWEEP_RECORD
    if record.exists():
        from sim.io import read_checked_json
        checked = read_checked_json(record)
        if checked is None or not isinstance(checked.get("runs"), list):
            raise UserError(f"{record}: a damaged sweep record (checksum or format); the runs cannot be checked "
                            f"against it")
        done: dict[tuple, int] = {}
        for r in runs:
            done[tuple(r.overrides)] = done.get(tuple(r.overrides), 0) + 1
        missing = []
        for overrides in checked["runs"]:
            per_job = next((int(o.split("=", 1)[1]) for o in overrides if o.startswith("seeds_per_job=")), 1)
            if done.get(tuple(overrides), 0) < per_job:
                missing.append(" ".join(overrides))
        return missing
    complete = {r.path for r in runs}
    return [str(cfg.parent.parent) for cfg in sorted(sweep_dir.rglob(".hydra/config.yaml"))
            if cfg.parent.parent not in complete and not any(p.parent == cfg.parent.parent for p in complete)]


def _params(overrides: list[str]) -> dict[str, str]:
    out = {}
    for o in overrides:
        key, _, value = o.lstrip("+~").partition("=")
        if key not in RESERVED and not key.startswith("hydra"):
            out[key] = value
    return out


def aggregate(sweep_dir: Path, out_dir: Path | None = None) -> Path:
    """Write <out>/flows and <out>/metrics: Hive-partitioned by scenario, with seed and parameter columns."""
    runs, _ = find_runs(sweep_dir)
    if not runs:
        raise UserError(f"{sweep_dir}: no finished runs (no run directory has a complete manifest.json)")
    out = Path(out_dir) if out_dir else Path(sweep_dir) / AGGREGATE_DIR
    _check_out(out, Path(sweep_dir))
    params = sorted({k for r in runs for k in r.params})
    import tempfile
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))   # ours alone
    try:
        for name in ("flows", "metrics"):
            tables = [_with_run_columns(pq.read_table(r.path / f"{name}.parquet"), r, params) for r in runs]
            ds.write_dataset(pa.concat_tables(tables), tmp / name, format="parquet",
                             partitioning=ds.partitioning(pa.schema([("scenario", pa.string())]), flavor="hive"),
                             existing_data_behavior="overwrite_or_ignore")
        (tmp / AGGREGATE_MARK).write_text(json.dumps({"written_by": "hemsim-aggregate", "sweep": str(sweep_dir)}))
        if out.exists():
            _remove(out) if (out / AGGREGATE_MARK).is_file() else out.rmdir()    # ours, or empty (checked)
        tmp.rename(out)
    except BaseException:
        _remove(tmp)
        raise
    return out


AGGREGATE_MARK = ".hemsim-aggregate"    # in every folder hemsim-aggregate writes: what it may replace


def _check_out(out: Path, sweep_dir: Path) -> None:
    """hemsim-aggregate replaces only a folder it wrote before, or an empty one; never the sweep or its runs."""
    o, sweep = out.resolve(), sweep_dir.resolve()
    if o == sweep or o in sweep.parents or (o.is_relative_to(sweep) and o.parent != sweep) \
            or (o.is_relative_to(sweep) and (o / "manifest.json").exists()):
        raise UserError(f"--out {out}: inside or above the sweep's runs ({sweep_dir}); choose a folder beside them "
                        f"(default {sweep_dir / AGGREGATE_DIR})")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / AGGREGATE_MARK).is_file():
        raise UserError(f"--out {out}: a folder hemsim-aggregate did not write, and not empty; choose a new or "
                        f"empty folder (it replaces only its own)")


def _with_run_columns(table: pa.Table, run: Run, params: list[str]) -> pa.Table:
    n = table.num_rows
    table = table.append_column("scenario", pa.array([run.scenario] * n, pa.string()))
    table = table.append_column("seed", pa.array([run.seed] * n, pa.int64()))
    for p in params:
        table = table.append_column(p, pa.array([run.params.get(p)] * n, pa.string()))
    return table


def read(aggregate_dir: Path, name: str):
    """One aggregated table (flows or metrics) as a pandas DataFrame."""
    return ds.dataset(Path(aggregate_dir) / name, format="parquet", partitioning="hive").to_table().to_pandas()


def _remove(path: Path) -> None:
    import shutil
    if path.exists():
        shutil.rmtree(path)
