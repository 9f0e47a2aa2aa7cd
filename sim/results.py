"""Collect each year's outcomes into tidy tables (pyarrow) and hold a run's results."""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

FLOWS_SCHEMA = pa.schema([("year", pa.int32()), ("kind", pa.string()), ("origin", pa.string()),
                          ("destination", pa.string()), ("students", pa.float64())])
METRICS_SCHEMA = pa.schema([("year", pa.int32()), ("country", pa.string()), ("metric", pa.string()),
                            ("value", pa.float64())])
WORLD = "WORLD"


@dataclass
class Results:
    flows: pa.Table
    metrics: pa.Table

    def metric(self, name: str, country: str = WORLD) -> np.ndarray:
        """One metric's yearly values for one country (WORLD by default), in year order."""
        m = self.metrics.to_pandas()
        sel = m[(m.metric == name) & (m.country == country)].sort_values("year")
        return sel.value.to_numpy()

    def flow_total(self, kind: str) -> float:
        f = self.flows.to_pandas()
        return float(f.loc[f.kind == kind, "students"].sum())


class Recorder:
    """Appends one year's flows (nonzero pairs only, real units) and metrics (every country and WORLD)."""

    def __init__(self, codes: list[str]):
        self.codes = np.array(codes, dtype=object)
        self.countries = np.array(list(codes) + [WORLD], dtype=object)
        self.flow_chunks: list[dict] = []
        self.metric_chunks: list[dict] = []

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

    def results(self) -> Results:
        return Results(_table(self.flow_chunks, FLOWS_SCHEMA), _table(self.metric_chunks, METRICS_SCHEMA))


def _table(chunks: list[dict], schema: pa.Schema) -> pa.Table:
    if not chunks:
        return schema.empty_table()
    cols = {name: np.concatenate([c[name] for c in chunks]) for name in schema.names}
    return pa.table({name: pa.array(cols[name], type=schema.field(name).type) for name in schema.names},
                    schema=schema)
