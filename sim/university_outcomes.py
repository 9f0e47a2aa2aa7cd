"""Yearly outcomes of universities, research and service, per country (index C = WORLD)."""

import numpy as np

from sim.mechanisms.research import CITES_FIXED_POINT


def _by_country(values, univ_country, n):
    return np.bincount(univ_country, np.asarray(values, float), n)


def _world(x, total=None):
    return np.append(x, x.sum() if total is None else total)


def _ratio(a, b):
    return np.divide(a, b, out=np.zeros_like(np.asarray(a, float)), where=np.asarray(b) > 0)


def _weighted_mean(values, weights, univ_country, n):
    num = _world(_by_country(values * weights, univ_country, n))
    den = _world(_by_country(weights, univ_country, n))
    return _ratio(num, den)


def research_flows(r, researcher_scale: float) -> dict[str, np.ndarray]:
    """(C, C) researcher flows in real researchers: visits, moves abroad, returns home."""
    off = ~np.eye(r.visits.shape[0], dtype=bool)
    return {"researcher_visit": r.visits * off * researcher_scale,
            "researcher_move": r.moves * off * researcher_scale,
            "researcher_return": r.returns * off * researcher_scale}


def university_metrics(model, enrolled, r, projects) -> dict[str, np.ndarray]:
    w = model.world
    n, uc, rs = w.n_countries, w.univ_country, w.researcher_scale
    count, intl_projects, people = projects
    papers = _world(_by_country(r.papers, uc, n))
    intl = _world(_by_country(r.intl_papers, uc, n))
    cites = _world(_by_country(r.citations, uc, n)) / CITES_FIXED_POINT
    cites_intl = _world(_by_country(r.intl_citations, uc, n)) / CITES_FIXED_POINT
    visits_out = r.visits.sum(axis=1) - np.diag(r.visits)
    students = _world(_by_country(enrolled, uc, n)) * w.scale
    return {
        "enrolment_rate": _ratio(students, _world(w.population)),
        "teaching_quality": _weighted_mean(model.teaching, model.capacity.astype(float), uc, n),
        "intl_course_share": _weighted_mean(model.courses, model.capacity.astype(float), uc, n),
        "capacity": _world(_by_country(model.capacity, uc, n)) * w.scale,
        "researchers": _world(_by_country(r.researchers, uc, n)) * rs,
        "papers": papers * rs,
        "intl_coauthored_share": _ratio(intl, papers),
        "citations_per_paper": _ratio(cites, papers),
        "citations_per_paper_intl": _ratio(cites_intl, intl),
        "citations_per_paper_domestic": _ratio(cites - cites_intl, papers - intl),
        "research_reputation": _weighted_mean(model.reputation, r.researchers.astype(float), uc, n),
        "researcher_visits": _world(visits_out) * rs,
        "researchers_moved_out": _world(r.moves.sum(axis=1) - np.diag(r.moves)) * rs,
        "researchers_moved_in": _world(r.moves.sum(axis=0) - np.diag(r.moves)) * rs,
        "researchers_returned": _world(r.returns.sum(axis=1)) * rs,
        "service_projects": _world(_by_country(count, uc, n)),
        "service_projects_international": _world(_by_country(intl_projects, uc, n)),
        "people_reached": _world(_by_country(people, uc, n)),
    }
