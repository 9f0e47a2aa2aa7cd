"""Education quality and reputation of universities, and enrolment expansion.

Teaching quality T of a university moves each year by
  + reversion x (base teaching - T): gains fade unless renewed (and losses recover)
  + teaching_diffusion x intensity x (mean teaching of exchange partners above T - T):
    methods spread along active agreements, in proportion to exchange traffic (capped at 2% of seats)
  + faculty_diffusion x (visiting and migrant researchers per 100 staff) x (their home teaching above T - T)
  + research_spillover x (research reputation - 1)
  - crowding_penalty x (occupancy above crowding_threshold)
  - expansion_penalty x (this year's capacity growth rate):  growth outpacing resources
Research reputation is a moving average of citations per researcher (world mean = 1); the quality
students see in their choice is the base quality + reputation_weight ln(reputation) + the change in
teaching quality. International courses: a country's target is a floor on its universities' share.
"""

import numpy as np

TEACHING_RANGE = (0.05, 0.99)
FULL_INTENSITY = 0.02    # exchange traffic (share of seats) at which diffusion runs at full rate


def teaching_update(teaching, base_teaching, edge_from, edge_to, edge_use, capacity, enrolled, growth,
                    reputation, visitors_from_teaching, visitors_per_100, p) -> np.ndarray:
    u = len(teaching)
    gap = np.maximum(teaching[edge_to] - teaching[edge_from], 0.0)
    use = edge_use.astype(float)
    traffic = np.bincount(edge_from, use, u)
    mean_gap = np.divide(np.bincount(edge_from, use * gap, u), traffic, out=np.zeros(u), where=traffic > 0)
    intensity = np.minimum(1.0, traffic / np.maximum(FULL_INTENSITY * capacity, 1.0))
    occupancy = enrolled / np.maximum(capacity, 1)
    t = (teaching + p.reversion * (base_teaching - teaching) + p.teaching_diffusion * intensity * mean_gap
         + p.faculty_diffusion * visitors_per_100 * np.maximum(visitors_from_teaching - teaching, 0.0)
         + p.research_spillover * (reputation - 1.0)
         - p.crowding_penalty * np.maximum(occupancy - p.crowding_threshold, 0.0)
         - p.expansion_penalty * growth)
    return np.clip(t, *TEACHING_RANGE)


def reputation_update(reputation, citations, researchers, memory) -> np.ndarray:
    per_head = np.divide(citations, researchers, out=np.zeros(len(citations)), where=researchers > 0)
    mean = per_head[researchers > 0].mean() if np.any(researchers > 0) else 1.0
    relative = np.where(researchers > 0, per_head / max(mean, 1e-12), 1.0)
    return (1 - memory) * reputation + memory * relative


def choice_quality(base_quality, reputation, teaching, base_teaching, weight) -> np.ndarray:
    shift = weight * np.log(np.maximum(reputation, 1e-3)) + (teaching - base_teaching)
    return np.clip(base_quality + shift[:, None], 0.01, 0.99)


def courses(base_courses, univ_country, target) -> np.ndarray:
    return np.maximum(base_courses, target[univ_country])


def open_share(edge_from, edge_to, univ_country, open_science, n_universities) -> np.ndarray:
    """Per university: own openness x mean openness of its partners (sharing takes both sides)."""
    both = open_science[univ_country[edge_from]] * open_science[univ_country[edge_to]]
    deg = np.bincount(edge_from, minlength=n_universities)
    return np.divide(np.bincount(edge_from, both, n_universities), deg, out=np.zeros(n_universities), where=deg > 0)
