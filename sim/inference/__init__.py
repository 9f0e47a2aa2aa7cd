"""Inference: the model held to data, above the model.

    calibration.py       the behavioural parameters fitted to observed student stocks (hemsim-calibrate)
    posterior.py         their posterior by ABC-SMC (pyabc), same runs and objective (hemsim-calibrate --posterior)
    levels.py            the real world's destination and origin constants fitted to observed totals (hemsim-levels)
    validation.py        scores and reference predictors: per-origin TVD, persistence, size-only, gravity (PPML)
    validation_runs.py   the runs the validation scores: held out, in sample, forward (hemsim-validate)
    validation_report.py the validation's report and figures; references.py: published figures it uses

These run the model (sim/model.py) and read the data (sim/world/loaders.py); the model and the worlds
import nothing from here (sim/world/ builds worlds and applies fitted constants only). Backtests, a
posterior and an emulator belong here too.
"""
