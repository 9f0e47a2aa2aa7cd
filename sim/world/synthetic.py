"""A seeded synthetic world with the heavy tails of the real one.

Sizes follow lognormal laws (a few large systems and elite universities, many small ones);
GDP per capita spans two orders of magnitude; enrolment rises with income (UNESCO UIS: gross
tertiary enrolment ratio ~10% in low-income to ~75% in high-income countries); distance comes
from positions on a sphere clustered in regions; a few large language groups span regions, as
English, Spanish, French and Arabic do. The world depends on `world.seed` only, so every run
seed of a sweep plays on the same world.
"""

import numpy as np

from sim import fpmath
from sim.config import Config
from sim.mechanisms.library.common import years_enrolled
from sim.world.world import World

EARTH_RADIUS_KM = 6371.0
REGIONS = 6
SHARED_LANGUAGES = np.array([0.22, 0.14, 0.10, 0.07, 0.05])  # the rest speak their own language
INCOME_GROUPS = (("low_income", 0, 1_135), ("lower_middle_income", 1_135, 4_465),
                 ("upper_middle_income", 4_465, 13_845), ("high_income", 13_845, np.inf))


def build(cfg: Config) -> World:
    w = cfg.world
    rng = np.random.default_rng(w.seed)
    n, f = w.countries, w.fields
    width = max(2, len(str(n)))
    codes = [f"C{i + 1:0{width}d}" for i in range(n)]

    size = fpmath.exp(rng.normal(15.0, 1.4, n))                        # heavy-tailed country sizes
    gdp_pc = np.clip(fpmath.exp(rng.normal(fpmath.log(7_000), 1.1, n)), 400, 120_000)
    log_income = fpmath.log(gdp_pc / 6_000)
    enrolment = np.clip(0.06 + 0.75 / (1 + fpmath.exp(-1.4 * log_income)) + rng.normal(0, 0.05, n), 0.02, 0.95)
    region = rng.integers(0, REGIONS, n)
    language = _languages(rng, n)
    lat, lon = _positions(rng, region)
    distance = _great_circle(lat, lon)
    common_language = (language[:, None] == language[None, :]).astype(np.uint8)
    colonial = _colonial_ties(rng, gdp_pc, common_language)
    income_rank = np.argsort(np.argsort(gdp_pc, kind="stable"), kind="stable") / max(n - 1, 1)
    visa = np.clip(0.35 + 0.5 * income_rank + rng.normal(0, 0.1, n), 0.05, 1.0)
    post_study = np.round(np.clip(3.0 * income_rank ** 2 + rng.normal(0, 0.5, n), 0, 4) * 2) / 2
    field_share = rng.dirichlet(np.full(f, 6.0), n)

    # national systems in agents: enrolled ~ size x enrolment rate, summing to world.students
    system = size * enrolment
    enrolled = system / system.sum() * w.students
    return assemble(cfg, codes=codes, names=[f"Country {c}" for c in codes], gdp_pc=gdp_pc,
                    enrolment=enrolment, enrolled=enrolled, region=region, language=language, distance=distance,
                    common_language=common_language, colonial=colonial, visa=visa, post_study=post_study,
                    field_share=field_share, quality_logit=0.9 * log_income)


def assemble(cfg: Config, *, codes, names, gdp_pc, enrolment, enrolled, region, language, distance,
             common_language, colonial, visa, post_study, field_share, quality_logit, extra_groups=None,
             research_staff_by_country=None) -> World:
    """Universities, agreements, researchers and groups around given countries (synthetic or real).

    enrolled: students per country in agents; quality_logit: the country's pull on its universities'
    quality (income for the synthetic world, research intensity for the real one);
    research_staff_by_country: researchers (people) per country where observed (the real world),
    else 4% of each university's seats times its quality.
    """
    w = cfg.world
    n, f = len(codes), field_share.shape[1]
    income_rank = np.argsort(np.argsort(gdp_pc, kind="stable"), kind="stable") / max(n - 1, 1)
    years_in_system = years_enrolled(cfg.behaviour.study, cfg.behaviour.progression)
    cohort = np.maximum(1, np.round(enrolled / years_in_system)).astype(np.int64)

    univ_country = _allocate_universities(enrolled, w.universities)
    z, uniform, beta = _university_draws(w.seed, codes, univ_country, f)
    base = quality_logit[univ_country] + z[:, 0]
    quality0 = 1 / (1 + fpmath.exp(-(base - 0.5)))
    quality = np.clip(quality0[:, None] + 0.06 * z[:, 4:], 0.01, 0.99)
    teaching = np.clip(quality0 + 0.08 * z[:, 1], 0.05, 0.99)
    weight = fpmath.exp(0.9 * z[:, 2]) * (0.5 + quality0)     # elite universities are larger
    share_in_country = weight / np.bincount(univ_country, weight, n)[univ_country]
    capacity = np.maximum(1, np.ceil(share_in_country * enrolled[univ_country] * w.capacity_slack)).astype(np.int64)
    free_tuition = uniform < 0.25 * (1 - income_rank[univ_country]) + 0.1
    tuition = np.where(free_tuition, 300.0, 1_500 + 0.35 * gdp_pc[univ_country] * fpmath.exp(0.3 * z[:, 3]))
    intl_courses = np.clip(beta + 0.15 * income_rank[univ_country], 0, 1)
    research_staff = capacity * w.scale * 0.04 * quality0
    if research_staff_by_country is not None:   # the observed total of each country, shared out the same way
        in_country = np.bincount(univ_country, research_staff, n)[univ_country]
        research_staff = research_staff_by_country[univ_country] * research_staff / np.maximum(in_country, 1e-9)
    research_staff = np.round(research_staff).astype(np.int64)
    population = enrolled * w.scale / enrolment   # consistent with the modelled system: GER = enrolled / population
    edges = _partnerships(_university_generators(w.seed, PARTNER_DRAWS, codes, univ_country), univ_country,
                          quality0, intl_courses, capacity, distance, common_language, region)
    internship_demand = _internship_demand(gdp_pc, population, enrolled)
    service_capacity = np.sqrt(population / np.median(population)) * (0.5 + income_rank)
    researchers = _split(research_staff, w.researchers)

    groups = {name: np.flatnonzero((gdp_pc >= lo) & (gdp_pc < hi)) for name, lo, hi in INCOME_GROUPS}
    groups.update({f"region_{r + 1}": np.flatnonzero(region == r) for r in range(int(region.max()) + 1)})
    groups.update(extra_groups or {})
    return World(
        codes=list(codes), names=list(names), population=population, gdp_pc=gdp_pc,
        language=language, region=region, enrolment_rate=enrolment, visa_openness=visa,
        post_study_work_years=post_study, field_share=field_share, distance_km=distance,
        common_language=common_language, colonial_tie=colonial, univ_country=univ_country.astype(np.int32),
        univ_quality=quality, univ_teaching=teaching, univ_capacity=capacity, univ_tuition_intl=tuition,
        univ_intl_courses=intl_courses, univ_research_staff=research_staff, cohort=cohort, **edges,
        internship_demand=internship_demand, service_capacity=service_capacity, researchers=researchers,
        researcher_scale=float(research_staff.sum() / max(researchers.sum(), 1)),
        scale=float(w.scale), groups=groups)


def _languages(rng, n):
    shared = rng.random(n) < SHARED_LANGUAGES.sum()
    lang = np.where(shared, rng.choice(len(SHARED_LANGUAGES), n, p=SHARED_LANGUAGES / SHARED_LANGUAGES.sum()), 0)
    own = np.flatnonzero(~shared)
    lang[own] = len(SHARED_LANGUAGES) + np.arange(len(own))    # a language of its own
    return lang.astype(np.int32)


def _positions(rng, region):
    centres_lat = rng.uniform(-35, 55, REGIONS)
    centres_lon = rng.uniform(-150, 150, REGIONS)
    lat = np.clip(centres_lat[region] + rng.normal(0, 9, len(region)), -60, 70)
    lon = centres_lon[region] + rng.normal(0, 14, len(region))
    return np.radians(lat), np.radians(lon)


def _great_circle(lat, lon):
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    half_dlat, half_dlon = fpmath.sin(dlat / 2), fpmath.sin(dlon / 2)
    a = half_dlat * half_dlat + fpmath.cos(lat[:, None]) * fpmath.cos(lat[None, :]) * half_dlon * half_dlon
    d = 2 * EARTH_RADIUS_KM * fpmath.arcsin(np.sqrt(np.clip(a, 0, 1)))
    np.fill_diagonal(d, 0.0)
    return np.maximum(d, np.where(np.eye(len(lat), dtype=bool), 0.0, 150.0))  # neighbours are >= 150 km apart


def _colonial_ties(rng, gdp_pc, common_language):
    ratio = gdp_pc[:, None] / gdp_pc[None, :]
    tie = (common_language == 1) & (ratio > 3) & (rng.random(ratio.shape) < 0.35)
    tie = tie | tie.T
    np.fill_diagonal(tie, False)
    return tie.astype(np.uint8)


UNIVERSITY_DRAWS = 0x756E6976    # tags the universities' generators ("univ"), apart from the world's own
PARTNER_DRAWS = 0x70617274       # and those of their agreements ("part")


def _university_generators(seed: int, tag: int, codes, univ_country: np.ndarray) -> list:
    """A generator for each university, keyed by (world seed, tag, its country's code, its rank in the country).

    Keyed, not drawn in sequence from the world's generator: the real world's countries gain or lose a
    university when their enrolment moves from one start year to the next, and in sequence that moved
    every later university's dice, so the world of 2013 and that of 2016 had different universities in
    countries whose data had not changed (Bulgaria's largest: teaching 0.56 against 0.92; its simulated
    inbound stock 4x apart), and no level constant could fit both. Now a university keeps its dice
    wherever its country keeps its number, and the backcast and held-out worlds play on the calibrated
    world's universities."""
    first = np.searchsorted(univ_country, univ_country)        # univ_country is sorted (np.repeat)
    return [np.random.default_rng([seed, tag, int.from_bytes(codes[c].encode(), "little"), i - first[i]])
            for i, c in enumerate(univ_country)]


def _university_draws(seed: int, codes, univ_country: np.ndarray, fields: int):
    """Each university's dice: (standard normals (U, 4 + fields): quality, teaching, size, tuition, quality
    by field; a uniform (U,): free tuition; a Beta(2, 9) (U,): international courses)."""
    u = len(univ_country)
    z, uniform, beta = np.empty((u, 4 + fields)), np.empty(u), np.empty(u)
    for i, g in enumerate(_university_generators(seed, UNIVERSITY_DRAWS, codes, univ_country)):
        z[i] = g.standard_normal(4 + fields)
        uniform[i], beta[i] = g.random(), g.beta(2, 9)
    return z, uniform, beta


def _allocate_universities(enrolled, total):
    """One university per country at least; the rest in proportion to system size."""
    n = len(enrolled)
    extra = total - n
    quota = enrolled / enrolled.sum() * extra
    counts = np.floor(quota).astype(np.int64)
    remainder = extra - counts.sum()
    counts[np.argsort(-(quota - counts), kind="stable")[:remainder]] += 1
    return np.repeat(np.arange(n), counts + 1)


PARTNERS_MEAN = 4          # agreements a university signs, on average (more for better, more international ones)
REGIONAL_PARTNERS = 3      # latent agreements with universities of the same region (regional programme)
DISTANCE_SCALE_KM = 4000.0


def _partnerships(generators, univ_country, quality, intl_courses, capacity, distance, common_language, region):
    """Bilateral agreements between universities of different countries.

    A university signs about PARTNERS_MEAN x (0.5 + quality + intl courses) agreements, choosing
    partners by quality, proximity and common language; each agreement runs both ways with slots
    proportional to the smaller partner (about 1% of its seats a year). Latent regional agreements
    join universities of the same region and open only when both countries join a regional
    programme (the `regional_programme` lever), as Erasmus+ did in Europe.
    """
    u = len(univ_country)
    c = univ_country
    foreign = c[:, None] != c[None, :]
    affinity = quality[None, :] * fpmath.exp(-distance[c][:, c] / DISTANCE_SCALE_KM) * (1 + common_language[c][:, c])
    pairs: dict[tuple[int, int], bool] = {}
    for i, rng in enumerate(generators):          # each university's own dice (_university_generators)
        w = np.where(foreign[i], affinity[i], 0.0)
        k = min(int(rng.poisson(PARTNERS_MEAN * (0.5 + quality[i] + intl_courses[i]))) + 1, int((w > 0).sum()))
        if k > 0:
            for j in rng.choice(u, size=k, replace=False, p=w / w.sum()):
                pairs[(min(i, j), max(i, j))] = False
        same = np.flatnonzero(foreign[i] & (region[c] == region[c[i]]))
        if len(same):
            for j in rng.choice(same, size=min(REGIONAL_PARTNERS, len(same)), replace=False):
                pairs.setdefault((min(i, int(j)), max(i, int(j))), True)
    a = np.array([p[0] for p in pairs], dtype=np.int64).reshape(-1)
    b = np.array([p[1] for p in pairs], dtype=np.int64).reshape(-1)
    regional = np.array(list(pairs.values()), dtype=bool)
    slots = np.maximum(1, np.round(0.01 * np.minimum(capacity[a], capacity[b]))).astype(np.int64)
    order = np.lexsort((np.concatenate([b, a]), np.concatenate([a, b])))
    return dict(edge_from=np.concatenate([a, b])[order].astype(np.int32),
                edge_to=np.concatenate([b, a])[order].astype(np.int32),
                edge_slots=np.concatenate([slots, slots])[order],
                edge_regional=np.concatenate([regional, regional])[order])


def _internship_demand(gdp_pc, population, enrolled):
    """Internship places for foreign students: proportional to the economy, ~0.5% of world enrolment a year."""
    economy = gdp_pc * population
    return np.maximum(0, np.round(economy / economy.sum() * enrolled.sum() * 0.005)).astype(np.int64)


def _split(weights, total):
    """Integers proportional to weights, summing to total (largest remainders)."""
    quota = weights / weights.sum() * total
    out = np.floor(quota).astype(np.int64)
    out[np.argsort(-(quota - out), kind="stable")[:max(0, total - out.sum())]] += 1
    return out
