"""An EMA Workbench evaluator that sends a design to a Slurm cluster as a job array (through submitit).

    from ema_workbench import perform_experiments
    from sim.ema import ema_model
    from sim.ema_slurm import SlurmEvaluator
    model = ema_model(seeds=(0, 1, 2))
    with SlurmEvaluator(model, folder="results/ema/.submitit", partition="debug", experiments_per_job=32) as ev:
        experiments, outcomes = perform_experiments(model, scenarios=500, policies=8, evaluator=ev)

EMA's own evaluators run on one machine (sequential, multiprocessing) or need a running ipyparallel or
MPI cluster. This one splits the experiments into chunks, one Slurm array task a chunk; each task
builds the world once and runs its chunk in order (the in-process batch path of `sim.ema`), so a task
costs one start-up for `experiments_per_job` runs. The outcomes are handed back to EMA in the order of
the experiments, so `perform_experiments` returns exactly what the SequentialEvaluator returns for the
same design (the randomness is a function of the seed, not of where a run happens).
"""

import copy

from ema_workbench.em_framework.evaluators import BaseEvaluator
from ema_workbench.em_framework.experiment_runner import ExperimentRunner

from sim.errors import ConfigError


def run_chunk(msis, experiments) -> list[dict]:
    """One array task: the outcomes of its experiments, in order (copied: the runner hands back the
    model's own outcome mapping, which the next experiment overwrites)."""
    runner = ExperimentRunner(msis)
    try:
        return [copy.deepcopy(runner.run_experiment(e)) for e in experiments]
    finally:
        runner.cleanup()


class SlurmEvaluator(BaseEvaluator):
    """Runs EMA experiments as a Slurm job array; `partition` and `timeout_min` go to sbatch,
    `array_parallelism` caps the tasks running at once (Slurm's %N)."""

    def __init__(self, msis, folder, partition: str | None = None, experiments_per_job: int = 16,
                 timeout_min: int = 240, array_parallelism: int = 256):
        super().__init__(msis)
        for key, value in (("experiments_per_job", experiments_per_job), ("timeout_min", timeout_min),
                           ("array_parallelism", array_parallelism)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"SlurmEvaluator: {key}={value!r}: must be an integer >= 1")
        self.folder, self.partition = folder, partition
        self.experiments_per_job, self.timeout_min, self.array_parallelism = \
            experiments_per_job, timeout_min, array_parallelism
        self.executor = None

    def initialize(self):
        import submitit
        self.executor = submitit.AutoExecutor(folder=self.folder, cluster="slurm")
        self.executor.update_parameters(timeout_min=self.timeout_min, slurm_array_parallelism=self.array_parallelism,
                                        **({"slurm_partition": self.partition} if self.partition else {}))

    def finalize(self):
        self.executor = None

    def evaluate_experiments(self, experiments, callback, **kwargs):
        if self.executor is None:
            self.initialize()
        experiments = list(experiments)
        n = self.experiments_per_job
        chunks = [experiments[i:i + n] for i in range(0, len(experiments), n)]
        jobs = self.executor.map_array(run_chunk, [self._msis] * len(chunks), chunks)
        for chunk, job in zip(chunks, jobs):
            try:
                results = job.result()
            except Exception as e:                     # submitit's FailedJobError / UncompletedJobError
                last = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
                raise RuntimeError(f"Slurm job {job.job_id} ({len(chunk)} experiments) failed: {last} "
                                   f"(logs in {self.folder})") from None
            for experiment, outcomes in zip(chunk, results):
                callback(experiment, outcomes)
