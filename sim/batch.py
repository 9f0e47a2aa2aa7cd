"""Design points in chunks, resumable, on local processes or as a Slurm job array (submitit).

The batch path of `hemsim-sensitivity` and `hemsim-emulate`: a design's points are cut into chunks of about
a quarter of a worker's share, and each chunk is one task (a joblib worker process, or a Slurm array task)
that builds the world and loads the compiled kernels once (sim/ema.py) and writes its rows to
`out/chunks/chunk_<i>.parquet` atomically. A chunk already on disk is not run again, so rerunning the
same command resumes; `out/design.json` stamps the folder with the design's key, so a folder holding
another design's chunks is refused instead of mixed in.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

STAMP = "design.json"


def run_chunks(out: Path, key: str, identity: str, evaluate, args: tuple, x, seeds: int, n_jobs: int = 2,
               launcher: str = "local", partition: str = ""):
    """Every point of `x` (rows: points) evaluated by `evaluate(*args, [(index, values), ...], seeds)` (a
    top-level function returning a list of row dicts, so submitit and joblib can ship it), chunk by chunk;
    returns the rows of all chunks (a DataFrame, in chunk order). `identity` is the design as JSON text;
    `key` its digest, checked against `out/design.json`."""
    import pandas as pd
    from sim.errors import UserError
    from sim.io import atomic_write, write_json
    out = Path(out)
    chunks_dir = out / "chunks"
    stamp = out / STAMP
    if stamp.exists() and json.loads(stamp.read_text()).get("key") != key:
        raise UserError(f"out={out}: holds another design's runs ({STAMP}); choose another folder")
    chunks_dir.mkdir(parents=True, exist_ok=True)
    write_json({"key": key, "identity": json.loads(identity)}, stamp)
    size = max(1, math.ceil(len(x) / (n_jobs * 4)))
    todo = [(i, [(j, x[j]) for j in range(s, min(s + size, len(x)))])
            for i, s in enumerate(range(0, len(x), size))]
    todo = [(i, pts) for i, pts in todo if not (chunks_dir / f"chunk_{i:05d}.parquet").exists()]

    def save(i, rows):
        atomic_write(chunks_dir / f"chunk_{i:05d}.parquet", lambda tmp: pd.DataFrame(rows).to_parquet(tmp))

    if todo and launcher == "slurm":
        import submitit
        executor = submitit.AutoExecutor(folder=out / ".submitit", cluster="slurm")
        executor.update_parameters(timeout_min=240, **({"slurm_partition": partition} if partition else {}))
        jobs = executor.map_array(evaluate, *zip(*[(*args, pts, seeds) for _, pts in todo]))
        for (i, _), job in zip(todo, jobs):
            save(i, job.result())
    elif todo:
        from joblib import Parallel, delayed
        from tqdm.auto import tqdm
        with tqdm(total=len(todo), desc="chunks", unit="chunk") as bar:
            for i, rows in Parallel(n_jobs=n_jobs, return_as="generator")(
                    delayed(lambda i, pts: (i, evaluate(*args, pts, seeds)))(i, pts) for i, pts in todo):
                save(i, rows)
                bar.update()
    return pd.concat([pd.read_parquet(p) for p in sorted(chunks_dir.glob("chunk_*.parquet"))], ignore_index=True)
