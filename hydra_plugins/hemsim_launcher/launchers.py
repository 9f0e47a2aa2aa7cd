"""Hydra launchers for sweeps: local processes (joblib) and Slurm job arrays (submitit).

Both are the standard Hydra plugins with three things added that long sweeps need:
- progress: runs done of the total, with an ETA (`hydra.launcher.progress=false` silences it);
- every run is waited for: a failed run (an exception, or on Slurm a crash, time limit, node
  failure or cancellation) is reported with its overrides and log path while the rest of the
  sweep completes; the sweep then exits with an error that counts the failures;
- the run itself skips work already done (see `experiments/run.py`), so rerunning the same sweep
  command redoes only missing or failed runs.
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, configure_log, filter_overrides, setup_globals
from hydra_plugins.hydra_joblib_launcher import _core as joblib_core
from hydra_plugins.hydra_joblib_launcher.config import JobLibLauncherConf
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher
from hydra_plugins.hydra_submitit_launcher.config import SlurmQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher as SubmititSlurmLauncher
from tqdm.auto import tqdm
from sim.errors import UserError

log = logging.getLogger(__name__)


class SweepFailed(RuntimeError):
    """Some runs of a sweep failed; the others completed."""


@dataclass
class LocalLauncherConf(JobLibLauncherConf):
    _target_: str = "hydra_plugins.hemsim_launcher.launchers.LocalLauncher"
    n_jobs: int = 2
    progress: bool = True


@dataclass
class SlurmLauncherConf(SlurmQueueConf):
    _target_: str = "hydra_plugins.hemsim_launcher.launchers.SlurmLauncher"
    progress: bool = True
    poll_seconds: float = 2.0
    lost_after_seconds: float = 120.0  # a job Slurm no longer knows (cancelled while pending) counts as failed


def register() -> None:
    cs = ConfigStore.instance()
    cs.store(group="hydra/launcher", name="local_schema", node=LocalLauncherConf, provider="hemsim")
    cs.store(group="hydra/launcher", name="slurm_schema", node=SlurmLauncherConf, provider="hemsim")


SWEEP_RECORD = "sweep.json"


def record_sweep(sweep_dir: Path, job_overrides: Sequence[Sequence[str]]) -> None:
    """Add this launch's runs (their overrides) to the sweep's record, so runs that never started
    (a job cancelled while queued, a launcher killed before it submitted) still count as missing."""
    from sim.io import read_checked_json, write_json
    path = sweep_dir / SWEEP_RECORD
    record = read_checked_json(path) if path.exists() else {"runs": []}
    if record is None or not isinstance(record.get("runs"), list):
        raise UserError(f"{path}: a damaged sweep record (checksum or format); move it away to start the record "
                        f"again")
    runs = record["runs"]
    for o in job_overrides:
        if list(o) not in runs:
            runs.append(list(o))
    write_json({"runs": runs}, path, checksum=True)


def _bar(total: int, enabled: bool):
    return tqdm(total=total, desc="runs", unit="run", disable=not enabled, dynamic_ncols=True)


def _report(results: Sequence[JobReturn], logs: Sequence[str]) -> None:
    failed = [(r, path) for r, path in zip(results, logs) if r.status != JobStatus.COMPLETED]
    for r, path in failed:
        log.error(f"run FAILED: {' '.join(filter_overrides(r.overrides or []))} | {r._return_value!s:.300} | "
                  f"log: {path}")
    if failed:
        raise SweepFailed(f"{len(failed)} of {len(results)} runs failed (listed above); the others completed. "
                          "Rerun the same command to redo only the missing and failed runs.")


class LocalLauncher(JoblibLauncher):
    """Hydra's joblib launcher with progress and failure reports."""

    def __init__(self, progress: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.progress = progress

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from joblib import Parallel, delayed

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        cfg = dict(self.joblib, backend="loky", return_as="generator_unordered")
        joblib_core.process_joblib_cfg(cfg)
        record_sweep(sweep_dir, job_overrides)
        log.info(f"Launching {len(job_overrides)} runs on {cfg.get('n_jobs')} local processes in {sweep_dir}")
        state = Singleton.get_state()

        def job(idx, overrides):
            return idx, joblib_core.execute_job(initial_job_idx + idx, overrides, self.hydra_context, self.config,
                                                self.task_function, state)

        results: list[JobReturn | None] = [None] * len(job_overrides)
        with _bar(len(job_overrides), self.progress) as bar:
            for idx, ret in Parallel(**cfg)(delayed(job)(i, o) for i, o in enumerate(job_overrides)):
                results[idx] = ret
                bar.update()
        logs = [str(Path(r.working_dir or sweep_dir) / f"{r.task_name or 'run'}.log") for r in results]
        _report(results, logs)
        return results


class SlurmLauncher(SubmititSlurmLauncher):
    """Hydra's submitit Slurm launcher (job arrays) that waits for every job and reports each failure."""

    def __init__(self, progress: bool = True, poll_seconds: float = 2.0, lost_after_seconds: float = 120.0,
                 **params: Any) -> None:
        super().__init__(**params)
        self.progress = progress
        self.poll_seconds = poll_seconds
        self.lost_after_seconds = lost_after_seconds

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        import submitit

        executor = submitit.AutoExecutor(cluster="slurm", folder=self.params["submitit_folder"],
                                         slurm_max_num_timeout=self.params.get("max_num_timeout", 0))
        base = set(SlurmQueueConf.__dataclass_fields__) - set(SlurmQueueConf.__mro__[1].__dataclass_fields__)
        params = {k if k not in base else f"slurm_{k}": v for k, v in self.params.items()
                  if k not in {"submitit_folder", "max_num_timeout", "_target_"}}
        executor.update_parameters(**params)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        record_sweep(sweep_dir, job_overrides)
        state = Singleton.get_state()
        job_params = [(list(o), "hydra.sweep.dir", initial_job_idx + i, f"job_id_for_{initial_job_idx + i}", state)
                      for i, o in enumerate(job_overrides)]
        jobs = executor.map_array(self, *zip(*job_params))
        log.info(f"Submitted {len(jobs)} runs as Slurm array {jobs[0].job_id.split('_')[0]}; outputs in {sweep_dir}")
        results: list[JobReturn | None] = [None] * len(jobs)
        pending = set(range(len(jobs)))
        unknown_since: dict[int, float] = {}
        with _bar(len(jobs), self.progress) as bar:
            while pending:
                for i in sorted(pending):
                    if jobs[i].done():
                        results[i] = self._result(jobs[i], job_overrides[i])
                    elif self._lost(i, jobs[i], unknown_since):
                        results[i] = JobReturn(overrides=list(job_overrides[i]), status=JobStatus.FAILED,
                                               _return_value=RuntimeError(
                                                   f"Slurm job {jobs[i].job_id} vanished from the queue and "
                                                   "accounting (cancelled before it started?)"))
                    else:
                        continue
                    pending.discard(i)
                    bar.update()
                if pending:
                    time.sleep(self.poll_seconds)
        _report(results, [str(j.paths.stderr) for j in jobs])
        return results

    def _lost(self, i: int, job, unknown_since: dict[int, float]) -> bool:
        """Whether Slurm has not known the job for lost_after_seconds (an array task cancelled while
        pending leaves no accounting record, so submitit would wait for it for ever)."""
        if job.state != "UNKNOWN":
            unknown_since.pop(i, None)
            return False
        first = unknown_since.setdefault(i, time.monotonic())
        return time.monotonic() - first > self.lost_after_seconds

    @staticmethod
    def _result(job, overrides) -> JobReturn:
        try:
            return job.results()[0]
        except Exception as e:  # crash, time limit, node failure, cancellation: the job left no result
            state = getattr(job, "state", "UNKNOWN")
            return JobReturn(overrides=list(overrides), status=JobStatus.FAILED,
                             _return_value=RuntimeError(f"Slurm job {job.job_id} ended {state}: {e!s:.200}"))
