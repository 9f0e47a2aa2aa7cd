"""Collect each year's outcomes into tidy tables (pyarrow) and hold a run's results."""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sim import students

FLOWS_SCHEMA = pa.schema([("year", pa.int32()), ("kind", pa.string()), ("origin", pa.string()),
                          ("destination", pa.string()), ("students", pa.float64())])
METRICS_SCHEMA = pa.schema([("year", pa.int32()), ("country", pa.string()), ("metric", pa.string()),
                            ("value", pa.float64())])
STUDENTS_SCHEMA = pa.schema([
    ("year", pa.int32()), ("uid", pa.uint64()), ("origin", pa.string()), ("country", pa.string()),
    ("university", pa.int32()), ("level", pa.string()), ("field", pa.uint8()), ("year_in", pa.uint8()),
    ("talent", pa.float32()), ("resources", pa.uint8()), ("skill", pa.float32()), ("competence", pa.float32()),
    ("exchanged", pa.bool_()), ("interned", pa.bool_()), ("outcome", pa.string()),
    ("exchange_country", pa.string()), ("internship_country", pa.string())])
WORLD = "WORLD"
LEVELS = np.array(students.LEVELS, dtype=object)
OUTCOMES = np.array(students.OUTCOMES, dtype=object)

# Each year's rows list the outcomes in this order (the README's), grouped by theme: talent,
# education, research, service; then any outcome declared by a mechanism and not listed here, in
# the order of the schedule.
METRIC_ORDER = (
    "enrolled", "entrants", "graduates", "dropouts", "unplaced", "inbound_degree", "outbound_degree",
    "new_inbound_degree", "new_outbound_degree", "international_share", "returnees", "stayers", "brain_drain",
    "net_talent_gain", "doctoral_stay_rate", "later_returnees", "alumni_abroad", "mean_skill", "mean_intercultural_competence",
    "mean_intercultural_competence_nonmobile",
    "exchange_students", "exchange_inbound", "exchange_participation_rate", "exchange_term_or_year_share",
    "internships", "internships_hosted", "intl_experienced_graduates", "graduate_employability",
    "graduate_emigrants", "graduate_emigration_rate", "graduate_stock", "graduate_stock_abroad_share", "graduate_stock_doctoral",
    "master_progressions", "doctoral_entrants", "doctoral_students", "doctoral_international_share",
    "international_graduate_students", "enrolment_rate",
    "teaching_quality", "intl_course_share", "capacity", "university_income", "tuition_revenue", "tuition_share",
    "scholarship_cost", "development_scholarships", "research_posts", "researchers", "researchers_per_million",
    "researcher_entries", "researcher_exits",
    "foreign_born_researcher_share", "researchers_abroad", "papers", "intl_coauthored_share", "tie_coauthored_papers",
    "citations_per_paper", "citations_per_paper_intl", "citations_per_paper_domestic", "research_reputation",
    "researcher_visits", "researchers_moved_out", "researchers_moved_in", "researchers_returned",
    "patent_applications", "service_projects", "service_projects_international", "people_reached")
FLOW_ORDER = ("degree", "enrolled", "enrolled_expected", "return", "stay", "exchange", "internship", "work_abroad", "doctoral",
              "doctoral_stay", "doctoral_return", "later_return", "stay_five_years", "doctoral_stay_five_years",
              "researcher_entry", "researcher_visit", "researcher_move",
              "researcher_return")


def in_order(names: list[str], order: tuple[str, ...]) -> list[str]:
    """`names` in the given order, then those it does not list, in their own order."""
    return [n for n in order if n in names] + [n for n in names if n not in order]


def outcome_tables(schedule) -> dict[str, str]:
    """The README's tables of the outcomes the mechanisms of `schedule` declare, in output order:
    {"flows": kind | meaning, "metrics": metric | unit | meaning} (scripts/readme_outcomes.py writes them)."""
    from sim.outcomes import Flow, Metric
    declared = [o for cls in schedule for o in cls.outcomes]
    flows = {o.name: o for o in declared if isinstance(o, Flow)}
    metrics = {o.name: o for o in declared if isinstance(o, Metric)}
    flow_rows = [f"| `{n}` | {flows[n].doc} |" for n in in_order(list(flows), FLOW_ORDER)]
    metric_rows = [f"| `{n}` | {metrics[n].unit} | {metrics[n].doc} |" for n in in_order(list(metrics), METRIC_ORDER)]
    return {"flows": "\n".join(["| kind | meaning (per year) |", "|---|---|", *flow_rows]),
            "metrics": "\n".join(["| metric | unit | meaning (per country) |", "|---|---|---|", *metric_rows])}


@dataclass
class Results:
    flows: pa.Table
    metrics: pa.Table
    students: pa.Table | None = None  # the per-student sample, when one was asked for

    def metric(self, name: str, country: str = WORLD) -> np.ndarray:
        """One metric's yearly values for one country (WORLD by default), in year order."""
        m = self.metrics.to_pandas()
        sel = m[(m.metric == name) & (m.country == country)].sort_values("year", kind="stable")
        return sel.value.to_numpy()

    def flow_total(self, kind: str) -> float:
        f = self.flows.to_pandas()
        return float(f.loc[f.kind == kind, "students"].sum())


class Recorder:
    """Appends one year's flows (nonzero pairs only, real units) and metrics (every country and WORLD)."""

    def __init__(self, codes: list[str], sampling: bool = False):
        self.codes = np.array(codes, dtype=object)
        self.countries = np.array(list(codes) + [WORLD], dtype=object)
        self.flow_chunks: list[dict] = []
        self.metric_chunks: list[dict] = []
        self.student_chunks: list[dict] | None = [] if sampling else None

    def add(self, year: int, flows: dict[str, np.ndarray], metrics: dict[str, np.ndarray]) -> None:
        for kind, counts in flows.items():
            o, d = np.nonzero(counts)
            self.flow_chunks.append(dict(year=np.full(len(o), year, np.int32), kind=np.full(len(o), kind, object),
                                         origin=self.codes[o], destination=self.codes[d],
                                         students=np.asarray(counts[o, d], np.float64)))
        for name, values in metrics.items():
            n = len(self.countries)
            self.metric_chunks.append(dict(year=np.full(n, year, np.int32), country=self.countries,
                                           metric=np.full(n, name, object), value=np.asarray(values, np.float64)))

    def add_students(self, year: int, s: dict[str, np.ndarray], univ_country: np.ndarray) -> None:
        """One year of the per-student sample (columns of sim.population, sampled rows)."""
        def country_or_none(index):
            return np.where(index >= 0, self.codes[np.maximum(index, 0)], None)
        self.student_chunks.append(dict(
            year=np.full(len(s["uid"]), year, np.int32), uid=s["uid"], origin=self.codes[s["origin"]],
            country=self.codes[univ_country[s["univ"]]], university=s["univ"], level=LEVELS[s["level"]],
            field=s["field"], year_in=s["year_in"], talent=s["talent"], resources=s["resources"], skill=s["skill"],
            competence=s["competence"], exchanged=(s["mobility"] & students.EXCHANGED) != 0,
            interned=(s["mobility"] & students.INTERNED) != 0,
            outcome=OUTCOMES[s["outcome"]],
            exchange_country=country_or_none(np.where(s["partner"] >= 0, univ_country[np.maximum(s["partner"], 0)], -1)),
            internship_country=country_or_none(s["host"].astype(np.int64))))

    def world_values(self) -> dict[int, dict[str, float]]:
        """The WORLD value of every metric recorded, by year (in the order recorded)."""
        out: dict[int, dict[str, float]] = {}
        for chunk in self.metric_chunks:
            out.setdefault(int(chunk["year"][-1]), {})[chunk["metric"][-1]] = float(chunk["value"][-1])
        return out

    def results(self) -> Results:
        students = None if self.student_chunks is None else _table(self.student_chunks, STUDENTS_SCHEMA)
        return Results(_table(self.flow_chunks, FLOWS_SCHEMA), _table(self.metric_chunks, METRICS_SCHEMA), students)


def _table(chunks: list[dict], schema: pa.Schema) -> pa.Table:
    if not chunks:
        return schema.empty_table()
    cols = {name: np.concatenate([c[name] for c in chunks]) for name in schema.names}
    return pa.table({name: pa.array(cols[name], type=schema.field(name).type) for name in schema.names},
                    schema=schema)
