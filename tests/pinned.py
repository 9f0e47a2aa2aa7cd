"""The pinned run: a change detector, not a statement about the world.

The SHA-256 of the flows and metrics of one small run. It holds on every machine (the same digests
under every SIMD path numpy dispatches to and every OpenBLAS core: tests/test_dispatch.py), so a
change of the digests means the computation changed: a restructuring must leave them alone, and a
change of the model updates them on purpose, saying why in the commit. What the results *mean* is
tested by the rule, mechanism and stylised-fact tests.
"""

import hashlib

import numpy as np
import pyarrow as pa

from conftest import small_config

CONFIG = dict(students=20_000, years=6, seed=1, scenario="comprehensive_internationalisation")

PINNED = {  # small_config(**CONFIG)
    # Updated on purpose for issue 11 (talent becomes research: progression to master's and doctorate,
    # an open research workforce hired from doctoral graduates, universities' money, the graduate
    # workforce, innovation, and the fixes of its item 7). Until then the pin held the results of the
    # code before the restructuring into mechanism modules (commit b01988b), unchanged by issue 10.
    # Updated again for a fix: the first spin-up year's choice no longer sees the empty network cached
    # while the initial diaspora was being estimated. Updated again (issue 11, on purpose): self-funded
    # international doctoral places, doctoral students' larger share of output, and home graduates'
    # emigration for work (emigration.py); the workforce's "earned abroad" is now relative to the
    # country of the workforce. Updated (issue 12): two new flow kinds, doctoral_stay and doctoral_return
    # (stay rates by origin; without them the flows' digest was the one before, 99f08da6..., checked), and
    # the size effect in international co-authorship (research.intl_size: small research systems find more
    # co-authors abroad), which moves papers, citations, reputation and, through quality, the choice.
    # Issue 21 (results independent of the CPU, sim/fpmath.py) left both digests as they were: they had
    # been made on a CPU without AVX-512, where numpy's exp/log/power were already the C library's; on
    # an AVX-512 CPU the metrics' digest used to be 8637a4e4ea99... instead. Issue 22 (the mechanism contract)
    # left both alone. Updated (issue 23, levers by corridor): international tuition is now summed over each
    # university's fee payers by origin (each corridor its own tuition factor), which moves tuition_revenue and
    # tuition_share in the 16th digit (13 rows each, at most 3e-16 relative); the flows' digest is unchanged.
    # Updated (issue 24): a new flow kind, enrolled_expected (sim/mechanisms/expected_stocks.py); without its
    # rows the flows' digest is the one before, 71f2745613da..., checked; the metrics' digest is unchanged.
    # Updated (issue 25, on purpose): a researcher's output depends on the host's budget per researcher
    # (research.resource_factors) and stayers go home later (careers.later_return_rates: a new metric,
    # later_returnees, and flow kind, later_return); both move every result through papers, reputation and
    # the alumni network. Updated again (issue 25, on purpose): fee-paying international students cost to teach
    # (finance.teaching_cost) and universities recruit them when their budget a seat falls (the choice's
    # recruitment term), which moves budgets, posts and papers. Then two outcomes of influence (alumni_abroad,
    # researchers_abroad): the flows' digest unchanged, checked; the metrics' moved by their rows only.
    # Updated on purpose: the initial diaspora is the steady state of its yearly update with later returns
    # (sim/diaspora.py), so runs no longer drift from their start. Updated (issue 25): two new flow kinds,
    # stay_five_years and doctoral_stay_five_years; without their rows the flows' digest is the one before,
    # c91e8c360612..., checked; the metrics' digest is unchanged. Then (on purpose) careers.stay_constant -1.6 ->
    # -2.7, so that the real world keeps about a third of its international graduates five years on (OECD: 20-40%;
    # it kept 48%): fewer stayers move every result through the network and the workforce. The two new kinds
    # then took their place in sim/results.FLOW_ORDER (after later_return): the rows' order alone moved
    # (739a9a13325a... before). Updated (issue 25, on purpose): a new metric, international_graduate_students, and
    # patents' R&D labour counts international master's students too, at graduate_students 0.9 (was 0.3):
    # the flows' digest unchanged; every metric row but patent_applications' as before (da9efb8c9982..., checked).
    # Then (issue 25, on purpose) research.papers_per_researcher 0.72 -> 0.30, anchored to the published articles
    # per active author: fewer papers move citations, ties and reputation's noise, and through them every result.
    "flows": "471cf44f8023dcad126517a7600355988455786d62a6639ede7f868ea28b471f",
    # Then two outcomes for sustainable development (development_scholarships, researchers_per_million): the
    # flows' digest unchanged; without their rows the metrics' digest is the one before, e3ad3efa8602..., checked.
    # Updated (on purpose, both digests, flows above and metrics below): each university's dice come from a
    # generator keyed by its country's code and its rank there (sim/world/synthetic.py, _university_generators),
    # not in sequence from the world's, so the real world's universities no longer change with the start year;
    # the synthetic world's universities are new draws.
    "metrics": "207141b34281c4ef12ca2e8884c5aa7578952e9e68af8236e1171288e15a553d",
}


def pinned_config():
    return small_config(**CONFIG)


def content_digest(table: pa.Table) -> str:
    """SHA-256 of a table's content (names, types, values in row order), independent of the file format."""
    h = hashlib.sha256()
    for name, column in zip(table.column_names, table.columns):
        h.update(f"{name}:{column.type};".encode())
        values = column.to_numpy(zero_copy_only=False)
        h.update("\0".join(values).encode() if values.dtype == object else np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def digests(results) -> dict[str, str]:
    return {"flows": content_digest(results.flows), "metrics": content_digest(results.metrics)}
