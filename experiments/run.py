"""`hemsim`: run one simulation (or, with -m, a sweep of them) from the Hydra configs in conf/.

    hemsim                                        # the default world, baseline, seed 0
    hemsim scenario=open_visas seed=3 years=20 world.students=2000000
    hemsim -m scenario=baseline,open_visas seed='range(0,10)'

Each run writes flows.parquet, metrics.parquet and manifest.json to its output directory
(see the README for every column). Bad input exits with status 2 and one line.
"""

import logging
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from experiments import preflight
from sim.config import Config
from sim.errors import UserError



def simulate(config: Config, outdir: Path, resolved: dict, overrides: list[str]) -> dict:
    """Run one configured simulation and write its outputs; returns the manifest.

    With checkpoint_every=N the run saves its state to <outdir>/checkpoint.hemsim every N years;
    with resume=true it continues from that checkpoint (checked whole before it is read; an older
    hemsim's pickled checkpoint.pkl is refused, never read). The checkpoint is deleted once the
    outputs are written."""
    from sim import checkpoint
    from sim.io import write_run
    from sim.model import HemsimModel

    started = time.perf_counter()
    from sim.io import clean_stale, data_hashes
    path, digest = outdir / checkpoint.FILENAME, checkpoint.config_digest(resolved)
    clean_stale(outdir, keep=("students.parquet",) if config.sample_students > 0 else ())
    if config.resume and not path.exists():
        checkpoint.refuse_legacy(outdir)
    if config.resume and path.exists():
        model = HemsimModel(config, state=checkpoint.load(path, digest))
        print(f"{config.scenario.name} seed={config.seed}: resumed from {path} at {model.year}")
    else:
        model = HemsimModel(config)
    results = model.run(progress=config.progress and sys.stderr.isatty(), checkpoint_every=config.checkpoint_every,
                        on_checkpoint=lambda m: checkpoint.save(path, m.state(), digest, m.year))
    tables = {"flows": results.flows, "metrics": results.metrics}
    if results.students is not None:
        tables["students"] = results.students
    manifest = write_run(outdir, tables, resolved, config.seed,
                         time.perf_counter() - started, extra={"scenario": config.scenario.name,
                                                               "backend": config.backend, "overrides": overrides,
                                                               "data": data_hashes(model.world.data_files)})
    path.unlink(missing_ok=True)
    return manifest


def run_dirs(outdir: Path, seed: int, seeds_per_job: int) -> list[tuple[int, Path]]:
    """The (seed, directory) of each run a job makes."""
    if seeds_per_job == 1:
        return [(seed, outdir)]
    return [(s, outdir / f"seed={s}") for s in range(seed, seed + seeds_per_job)]


def is_complete(run_dir: Path, resolved: dict) -> bool:
    """A run already done with the same config: its manifest is complete and its files intact."""
    from sim.checkpoint import RUN_CONTROL
    from sim.io import read_manifest

    manifest = read_manifest(run_dir)
    strip = lambda c: {k: v for k, v in c.items() if k not in RUN_CONTROL}  # noqa: E731
    return manifest is not None and strip(manifest["config"]) == strip(resolved)


@hydra.main(config_path=str(preflight.CONF_DIR), config_name="config", version_base="1.3")
def _task(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        config = preflight.to_config(cfg)
        outdir = Path(HydraConfig.get().runtime.output_dir)
        overrides = list(HydraConfig.get().overrides.task)
        for seed, run_dir in run_dirs(outdir, config.seed, config.seeds_per_job):
            config.seed = seed
            resolved = OmegaConf.to_container(cfg, resolve=True) | {"seed": seed, "seeds_per_job": 1}
            if is_complete(run_dir, resolved):
                print(f"{config.scenario.name} seed={seed}: complete, skipped -> {run_dir}")
                continue
            manifest = simulate(config, run_dir, resolved, overrides)
            print(f"{config.scenario.name} seed={seed}: {config.years} years in {manifest['wall_seconds']:.1f} s, "
                  f"international share {_world_share(run_dir):.2%} in {config.start_year + config.years - 1} "
                  f"-> {run_dir}")
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: say which file
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e} (nothing of this run was left half-written)")
    except MemoryError:
        preflight.fail("out of memory: raise world.scale or lower world.students")


def _world_share(outdir: Path) -> float:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    m = pq.read_table(outdir / "metrics.parquet")
    m = m.filter(pc.and_(pc.equal(m["country"], "WORLD"), pc.equal(m["metric"], "international_share")))
    return m["value"].to_pylist()[-1]


def main() -> None:
    preflight.check(sys.argv[1:])
    _task()


if __name__ == "__main__":
    main()
