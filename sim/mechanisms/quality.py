"""Education quality and research reputation of universities.

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

from dataclasses import dataclass

import numpy as np

from sim import fpmath
from sim.mechanisms.base import Mechanism, nonnegative, rule_type, share
from sim.outcomes import Metric, weighted_mean


@dataclass
class Params:
    """behaviour.quality: teaching quality and reputation of universities."""
    teaching_diffusion: float = share(0.15) # share of the gap to better partners closed a year at full exchange intensity
    faculty_diffusion: float = share(0.03)  # per unit of visiting and migrant researchers per 100 staff
    reversion: float = share(0.15)          # share of the gain over the base teaching quality lost a year without renewal
    research_spillover: float = share(0.02) # teaching gain per unit of research reputation above average
    crowding_threshold: float = share(0.97) # occupancy above which teaching suffers
    crowding_penalty: float = nonnegative(0.5)    # per unit of occupancy above the threshold
    expansion_penalty: float = nonnegative(0.3)   # per unit of yearly capacity growth
    reputation_weight: float = share(0.08)  # quality shift per unit of log research reputation
    reputation_memory: float = share(0.3)   # weight of this year's citations in the reputation average


Rule = QualityRule = rule_type(Params, "QualityRule")

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
    shift = weight * fpmath.log(np.maximum(reputation, 1e-3)) + (teaching - base_teaching)
    return np.clip(base_quality + shift[:, None], 0.01, 0.99)


def courses(base_courses, univ_country, target) -> np.ndarray:
    return np.maximum(base_courses, target[univ_country])


def guest_teaching(researchers, teaching: np.ndarray, univ_country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(guests, their mean home teaching quality) per university: researchers visiting it this year and
    migrant researchers working there (moved from a university abroad, this year or earlier), and the
    mean teaching quality at their home universities (the university's own where it has none)."""
    r, u = researchers, len(teaching)
    migrant = univ_country[r.univ] != univ_country[r.home]
    guest_at = np.where(r.visiting >= 0, r.visiting, np.where(migrant, r.univ, -1))
    is_guest = guest_at >= 0
    total = np.bincount(guest_at[is_guest], teaching[r.home[is_guest]], u)
    count = np.bincount(guest_at[is_guest], minlength=u)
    return count, np.divide(total, count, out=teaching.copy(), where=count > 0)


class Quality(Mechanism):
    """At the end of the year: research reputation follows this year's citations; teaching quality
    moves with exchanges, guest researchers, research, crowding and expansion; the quality students
    see and the international-course shares follow (for next year's choices)."""
    section = "quality"
    reads = ("universities.enrolled", "universities.teaching", "universities.researchers",
             "universities.citations", "universities.reputation", "universities.capacity",
             "universities.growth", "researchers", "agreements.traffic")
    writes = ("universities.reputation", "universities.teaching", "universities.quality", "universities.courses")
    outcomes = (
        Metric("teaching_quality", "index 0..1",
               "capacity-weighted mean teaching quality of the country's universities (education quality)"),
        Metric("intl_course_share", "share", "capacity-weighted share of programmes taught as international courses"),
        Metric("research_reputation", "index (world mean 1)",
               "researcher-weighted mean research reputation of universities"),
    )

    def step(self, m) -> None:
        w, u, g, q = m.world, m.universities, m.agreements, m.rules.quality
        enrolled = u.enrolled                      # this year's students (learning)
        guests, guests_teaching = guest_teaching(m.researchers, u.teaching, w.univ_country)
        staff = np.maximum(u.researchers, 1)
        u.reputation = reputation_update(u.reputation, u.citations, u.researchers, q.reputation_memory)
        u.teaching = teaching_update(u.teaching, w.univ_teaching, g.source, g.partner, g.traffic, u.capacity, enrolled,
                                     u.growth, u.reputation, guests_teaching, 100.0 * guests / staff, q)
        u.quality = choice_quality(w.univ_quality, u.reputation, u.teaching, w.univ_teaching, q.reputation_weight)
        u.courses = courses(w.univ_intl_courses, w.univ_country, m.policy["intl_course_target"])

    def metrics(self, m) -> dict[str, np.ndarray]:
        u, w = m.universities, m.world
        seats = u.capacity.astype(float)
        return {"teaching_quality": weighted_mean(u.teaching, seats, w.univ_country, w.n_countries),
                "intl_course_share": weighted_mean(u.courses, seats, w.univ_country, w.n_countries),
                "research_reputation": weighted_mean(u.reputation, u.researchers.astype(float), w.univ_country,
                                                     w.n_countries)}
