"""The real world's response of research and innovation to foreign graduate students: a paired experiment.

Chellaraj, Maskus & Mattoo (2008) and Stuen, Mobarak & Maskus (2012) estimate how US patents and papers
respond to the number of foreign graduate students, the latter from enrolment shocks abroad. The same
design here: the calibrated world from its start year twice at the same seed (common random numbers),
once as it is and once with an enrolment shock abroad from the year after the start (every origin below
high income pays its students' degrees abroad: `SHOCK`), and the arc elasticities over the last `WINDOW`
years of the run, where the shock has worked through doctorates, posts and hiring:

    patents: ln(patents' / patents) / ln(foreign graduate students' / foreign graduate students)
    papers:  ln(papers' / papers) / ln(foreign doctoral students' / foreign doctoral students)

each a sum over the window, for the country of the published estimates (USA). The published ranges are in
sim/inference/references.py; the report sets them beside the model's.
"""

import pandas as pd

from sim import fpmath
from sim.config import Lever

COUNTRY = "USA"
YEARS = 8              # length of the paired runs (from the world's start year)
WINDOW = 4             # the last years over which the responses are summed


def shock(start_year: int) -> list[Lever]:
    """The enrolment shock abroad: origins below high income pay all their students' degrees abroad."""
    return [Lever(lever="outbound_scholarship", countries="non_high_income", value=1.0, start=start_year + 1)]


def _series(metrics: pd.DataFrame, name: str, country: str) -> pd.Series:
    m = metrics[(metrics.metric == name) & (metrics.country == country)]
    return m.set_index("year").value.sort_index()


def _counts(metrics: pd.DataFrame, country: str) -> dict[str, pd.Series]:
    return {"foreign_graduate_students": _series(metrics, "international_graduate_students", country),
            "foreign_doctoral_students": _series(metrics, "doctoral_students", country)
            * _series(metrics, "doctoral_international_share", country),
            "papers": _series(metrics, "papers", country),
            "patent_applications": _series(metrics, "patent_applications", country)}


def elasticities(baseline: pd.DataFrame, shocked: pd.DataFrame, country: str = COUNTRY,
                 window: int = WINDOW) -> dict:
    """Log changes of the window's sums (shocked over baseline) and the two elasticities, from the runs'
    tidy metrics. An elasticity whose regressor did not move is NaN (the shock did not reach the country)."""
    base, shock_ = _counts(baseline, country), _counts(shocked, country)
    years = sorted(set(base["papers"].index))[-window:]
    change = {}
    for k in base:
        b, s = base[k].reindex(years).sum(), shock_[k].reindex(years).sum()
        change[k] = float(fpmath.log(s / b)) if b > 0 and s > 0 else float("nan")

    def ratio(num, den):
        return change[num] / change[den] if abs(change[den]) > 1e-9 else float("nan")
    return {"country": country, "years": [int(y) for y in years], "log_change": change,
            "patent_elasticity": ratio("patent_applications", "foreign_graduate_students"),
            "paper_elasticity": ratio("papers", "foreign_doctoral_students")}
