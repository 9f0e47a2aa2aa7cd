"""The posterior file: weighted particles of the behaviour's parameters, as `hemsim-calibrate --posterior` writes them
(sim/inference/posterior.py) and runs over the posterior read them (sim/parameter_draws.py).

posterior.parquet is tidy, one row per particle and parameter (COLUMNS); posterior.json beside it records the
parquet's SHA-256 (and the run that wrote it) and carries a checksum of its own. A file that does not match, or
whose content is not a posterior (columns, types, finite values, one weight per particle, weights summing to 1),
is refused in one line. Data only: nothing read here can run code.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import UserError
from sim.io import read_checked_json, sha256, write_json, write_table

PARQUET, SIDECAR = "posterior.parquet", "posterior.json"
SCHEMA = pa.schema([("particle", pa.int64()), ("parameter", pa.string()), ("value", pa.float64()),
                    ("weight", pa.float64()), ("generation", pa.int64()), ("epsilon", pa.float64())])
COLUMNS = SCHEMA.names
WEIGHT_TOLERANCE = 1e-9


def write_particles(folder: Path, frame: pd.DataFrame, record: dict) -> dict:
    """A tidy posterior (COLUMNS) as posterior.parquet with its checksummed sidecar; returns the sidecar."""
    folder = Path(folder)
    (folder / SIDECAR).unlink(missing_ok=True)
    write_table(pa.Table.from_pandas(frame[COLUMNS], schema=SCHEMA, preserve_index=False), folder / PARQUET)
    sidecar = record | {"parquet": PARQUET, "parquet_sha256": sha256(folder / PARQUET),
                        "particles": int(frame.particle.nunique())}
    write_json(sidecar, folder / SIDECAR, checksum=True)
    return sidecar


def read_posterior(path) -> pd.DataFrame:
    """The tidy posterior at `path` (posterior.parquet or its folder), checked: its checksum matches the
    sidecar, the columns are exactly COLUMNS with their types, every value finite, each particle has one
    weight and every parameter once, and each generation's weights sum to 1. A UserError naming the file
    otherwise."""
    path = Path(path)
    path = path / PARQUET if path.is_dir() else path
    sidecar = read_checked_json(path.with_name(SIDECAR))
    if sidecar is None:
        raise UserError(f"{path}: its sidecar {SIDECAR} is missing, unreadable or changed since written "
                        f"(checksum); write the posterior again (hemsim-calibrate --posterior)")
    try:
        digest = sha256(path)
    except OSError as e:
        raise UserError(f"{path}: {e.strerror or e}") from None
    if digest != sidecar.get("parquet_sha256"):
        raise UserError(f"{path}: SHA-256 does not match {SIDECAR} (changed since written)")
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as e:
        raise UserError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
    return _checked(table, path)


def _checked(table: pa.Table, path: Path) -> pd.DataFrame:
    if table.schema.names != COLUMNS:
        raise UserError(f"{path}: columns {table.schema.names}, expected exactly {COLUMNS}")
    for f in SCHEMA:
        if not table.schema.field(f.name).type.equals(f.type):
            raise UserError(f"{path}: column {f.name} is {table.schema.field(f.name).type}, expected {f.type}")
    frame = table.to_pandas()
    if frame.isna().any().any() or not np.isfinite(frame[["value", "weight", "epsilon"]].to_numpy(float)).all():
        raise UserError(f"{path}: missing or non-finite values")
    if frame.empty:
        raise UserError(f"{path}: no particles")
    if frame.duplicated(["generation", "particle", "parameter"]).any() or \
            frame.groupby(["generation", "particle"]).size().nunique() != 1:
        raise UserError(f"{path}: each particle must have every parameter exactly once")
    per_particle = frame.groupby(["generation", "particle"]).weight
    if (per_particle.nunique() != 1).any() or (frame.weight < 0).any():
        raise UserError(f"{path}: a particle's weight must be one number >= 0")
    sums = per_particle.first().groupby("generation").sum()
    if (abs(sums - 1.0) > WEIGHT_TOLERANCE).any():
        raise UserError(f"{path}: weights sum to {float(sums.iloc[0]):.12g}, not 1, over the particles")
    return frame


def wide(posterior: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """A tidy posterior as (particles x parameters, weights)."""
    points = posterior.pivot(index="particle", columns="parameter", values="value")
    weights = posterior.drop_duplicates("particle").set_index("particle").weight.reindex(points.index)
    return points, weights.to_numpy(float)
