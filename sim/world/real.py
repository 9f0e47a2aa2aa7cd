"""The real world (`world=oecd`): about 200 countries from public statistics.

Countries: every economy with population and GDP per capita in the World Bank indicators (the
start year, or the nearest year present) that CEPII GeoDist also covers. Distances (population-
weighted, else between capitals), common official language and colonial ties come from CEPII;
inbound totals from UNESCO UIS; bilateral stocks of international students from the OECD table
(rescaled to UIS totals: see loaders) seed the diaspora network; researchers per country from
the scholar-migration data (Scopus-active authors: they set university quality and are the
research staff, shared among a country's universities by size and quality), and GDP per head in
constant 2015 US dollars from the same file (`incomes`: no exchange-rate swings, and a backcast year
has its own). The WDI extract has no tertiary enrolment ratio, so it is imputed
from GDP per capita with the income gradient of UIS data (as in the synthetic world), applied
to a tertiary-age population of 8% of the total (UN WPP: the 18-22 cohort is 7-9%). Regions are
six clusters of the distance matrix. Every country or row left out is listed with its reason in
`World.excluded` (and in the validation report); nothing is dropped silently.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from sim import fpmath
from sim.config import Config
from sim.errors import ConfigError, DataError
from sim.world import loaders as L
from sim.world import policy_backcast, policy_history, synthetic
from sim.world.world import World

AGE_SHARE = 0.08
BASE_YEAR = 2015        # the constant-dollar series' base year (loaders.load_scholar_migration)
REGIONS = 6


def data_dir(cfg: Config) -> Path:
    d = Path(cfg.world.data_dir).expanduser()
    if not d.is_dir():
        raise DataError(f"world.data_dir={d}: no such directory (it should hold the public data: "
                        "oecd_mobile_students_2013_2016.csv, wdi_selected_2013_2019.csv, ...)")
    return d


def nearest_year(frame: pd.DataFrame, year: int, columns: list[str], key: str = "country") -> pd.DataFrame:
    """Per key, the row with all `columns` present whose year is nearest to `year` (earlier on ties)."""
    f = frame.dropna(subset=columns).copy()
    f["gap"] = (f.year - year).abs() * 2 + (f.year > year)
    return f.sort_values([key, "gap"], kind="stable").groupby(key, as_index=False).first().drop(columns="gap")


def build(cfg: Config) -> World:
    d = data_dir(cfg)
    year = cfg.start_year
    iso, wdi, cepii, scholars = L.load_iso_codes(d), L.load_wdi(d), L.load_cepii(d), L.load_scholar_migration(d)
    # a file cut short is refused before anything is computed from it (loaders.COVERAGE)
    for frame, name in ((iso, L.ISO_FILE), (wdi.frame, L.WDI_FILE), (cepii.frame, L.CEPII_FILE),
                        (scholars.frame, L.SCHOLAR_FILE), (L.load_uis_inbound(d).frame, L.UIS_FILE),
                        (L.load_oecd_mobile(d).frame, L.OECD_FILE)):
        L.require_coverage(frame, d, name)
    stocks = L.rescaled_oecd_stocks(d)
    first, last = int(stocks.frame.year.min()), int(stocks.frame.year.max())
    uis = L.load_uis_inbound(d).frame
    earliest = int(uis.year.min())
    if not earliest <= year <= last:   # a run starts from an observed year, or a backcast of one
        raise ConfigError(f"start_year={year}: the real world's stocks cover {first}-{last} ({L.OECD_FILE}), "
                          f"and backcasts from the UIS totals reach back to {earliest} ({L.UIS_FILE}); start "
                          f"in {earliest}-{last}")
    stock_frame = stocks_of(stocks.frame, uis, year, cfg.world.backcast)
    excluded = [wdi.excluded.assign(source="wdi"), cepii.excluded.assign(source="cepii"),
                stocks.excluded.assign(source="oecd/uis"), scholars.excluded.assign(source="scholar_migration")]

    w = nearest_year(wdi.frame, year, ["population", "gdp_pc_usd"])
    L.require_coverage(w, d, L.WDI_FILE)       # countries with both a population and a GDP per capita
    no_data = sorted(set(wdi.frame.country) - set(w.country))
    excluded.append(_excl(no_data, "no population or GDP per capita in WDI in any year", "wdi"))
    in_cepii = set(cepii.frame.origin) & set(cepii.frame.destination)
    missing = sorted(set(w.country) - in_cepii)
    excluded.append(_excl(missing, "not in CEPII GeoDist (no distances)", "cepii"))
    w = w[w.country.isin(in_cepii)].sort_values("country", kind="stable").reset_index(drop=True)
    codes = w.country.tolist()
    n = len(codes)
    index = {c: i for i, c in enumerate(codes)}

    distance, language, colonial = _pairs(cepii.frame, index, n)
    gdp_pc = incomes(scholars.frame, wdi.frame, codes, year)
    log_income = fpmath.log(gdp_pc / 6_000)
    enrolment = np.clip(0.06 + 0.75 / (1 + fpmath.exp(-1.4 * log_income)), 0.02, 0.95)
    enrolled_real = w.population.to_numpy(float) * AGE_SHARE * enrolment
    enrolled = enrolled_real / cfg.world.scale
    researchers = _researchers(scholars.frame, codes, year, gdp_pc, w.population.to_numpy(float))
    intensity = fpmath.log(researchers / w.population.to_numpy(float) * 1e6 + 1.0)   # researchers per million
    quality_logit = 0.6 * (intensity - np.median(intensity)) + 0.4 * log_income

    income_rank = np.argsort(np.argsort(gdp_pc, kind="stable"), kind="stable") / max(n - 1, 1)
    names = _names(iso, codes)
    region = _regions(distance)
    reporting = sorted(set(stocks.frame.destination) & set(codes))
    groups, absent = country_groups(index)
    excluded.append(absent)
    world = synthetic.assemble(
        cfg, codes=codes, names=names, gdp_pc=gdp_pc, enrolment=enrolment, enrolled=enrolled, region=region,
        language=np.full(n, -1, np.int32), distance=distance, common_language=language, colonial=colonial,
        visa=np.clip(0.35 + 0.5 * income_rank, 0.05, 1.0),
        post_study=np.round(np.clip(3.0 * income_rank ** 2, 0, 4) * 2) / 2,
        field_share=np.full((n, cfg.world.fields), 1.0 / cfg.world.fields), quality_logit=quality_logit,
        extra_groups={"oecd_reporting": np.array([index[c] for c in reporting], dtype=np.int64)} | groups,
        research_staff_by_country=researchers)
    world.observed_stock, dropped = _stocks(stock_frame, index, n, year)
    # the state a run from the data starts from: the stocks of the year before (observed, or backcast)
    world.stock_before_start, _ = _stocks(stocks_of(stocks.frame, uis, year - 1, cfg.world.backcast), index, n,
                                          year - 1)
    # and of the year before that where observed (not backcast): the corridors' last change (world.entrant_momentum)
    earlier = stocks.frame[stocks.frame.year == year - 2]
    world.stock_two_before_start = _stocks(earlier, index, n, year - 2)[0] if len(earlier) else np.full((n, n), np.nan)
    if cfg.world.policy_history:
        history = policy_history.load()
        world.history = policy_history.levers(world, history)
        world.free_movement = policy_history.free_movement(world, history)
    if year < first:   # a run from a backcast: its shares moved to the policies of its own years (policy_backcast)
        choice = cfg.behaviour.choice
        world.observed_stock = policy_backcast.adjusted(world.observed_stock, world, choice, year, first)
        world.stock_before_start = policy_backcast.adjusted(world.stock_before_start, world, choice, year - 1, first)
    excluded.append(dropped)
    world.excluded = pd.concat([e for e in excluded if len(e)], ignore_index=True)
    world.data_files = [d / name for name in DATA_FILES]
    _check_release(cfg, d)
    return world


def stocks_of(stocks: pd.DataFrame, uis: pd.DataFrame, year: int, how: str) -> pd.DataFrame:
    """The bilateral stocks of `year`: observed from the first observed year on, else backcast (`how`)."""
    return stocks if year >= int(stocks.year.min()) else backcast(stocks, uis, year, how)


def backcast(stocks: pd.DataFrame, uis: pd.DataFrame, year: int, how: str) -> pd.DataFrame:
    """Bilateral stocks of a year before the first observed one (frame[year, origin, destination, students]).

    Who studies where is known from 2013 only; how many each destination received earlier is known from
    UIS. Both backcasts keep each destination's origin shares and scale them to its UIS total of `year`:
    - uis_year: the shares of the first observed year, the UIS total of `year` (log-linear between the
      destination's observed years across a gap, the nearest observed year outside them);
    - uis_smoothed: the shares pooled over all observed years, the mean of the (so interpolated) UIS
      totals of `year` - 1 .. `year` + 1 (a one-year jump in UIS, such as a change of definition, is damped).
    Destinations without a UIS value in any year keep their first observed stocks. Covariates (WDI) come
    from their nearest year and policies from the history of `year` (sim/world/policy_history.py); the world
    of a run that starts in a backcast year moves these shares to its year's policies (policy_backcast).
    """
    first = int(stocks.year.min())
    base = stocks[stocks.year == first] if how == "uis_year" else \
        stocks.groupby(["origin", "destination"], as_index=False).students.mean()
    shares = base.assign(share=base.students / base.groupby("destination").students.transform("sum"))
    years = [year] if how == "uis_year" else [year - 1, year, year + 1]
    totals = {dest: float(np.mean([_interpolated(series, y) for y in years]))
              for dest, series in uis.dropna(subset=["inbound"]).groupby("country")}
    total = shares.destination.map(totals)
    kept = base.groupby("destination").students.transform("sum")
    students = np.where(total.notna(), shares.share * total.fillna(0.0), base.students)
    return pd.DataFrame({"year": year, "origin": base.origin, "destination": base.destination,
                         "students": np.where(kept > 0, students, base.students)})


def _interpolated(series: pd.DataFrame, year: int) -> float:
    """A destination's UIS total in `year`: observed, log-linear between its observed years, else the nearest."""
    y, v = series.year.to_numpy(float), series.inbound.to_numpy(float)
    order = np.argsort(y, kind="stable")
    y, v = y[order], np.maximum(v[order], 1.0)
    return float(fpmath.exp(np.interp(float(year), y, fpmath.log(v))))


GROUPS_FILE = Path(__file__).with_name("country_groups.yaml")


def country_groups(index: dict[str, int]) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """The groups of sim/world/country_groups.yaml ({name: indices of its members in this world}), and the
    members without data in this world (listed, as every country left out is)."""
    import yaml
    groups, absent = {}, []
    for name, group in yaml.safe_load(GROUPS_FILE.read_text()).items():
        if not group.get("source") or not group.get("members"):
            raise ConfigError(f"{GROUPS_FILE}: group {name} needs a source and members")
        groups[name] = np.array(sorted(index[c] for c in group["members"] if c in index), dtype=np.int64)
        absent += [(c, f"member of the group {name} with no data in this world") for c in group["members"]
                   if c not in index]
    return groups, pd.DataFrame({"name": [c for c, _ in absent], "reason": [r for _, r in absent], "rows": 1,
                                 "source": "country_groups"})


DATA_FILES = (L.ISO_FILE, L.WDI_FILE, L.CEPII_FILE, L.SCHOLAR_FILE, L.UIS_FILE, L.OECD_FILE)   # what build reads


def _check_release(cfg: Config, d: Path) -> None:
    """The fitted constants describe the data they were fitted on: a data file that differs from it (edited,
    cut at a line break, another release) is refused rather than read into quietly different results."""
    from sim.io import sha256
    for name, expected in cfg.world.data_sha256.items():
        if (d / name).is_file() and sha256(d / name) != expected:
            raise ConfigError(f"{d / name}: not the data the real world's constants were fitted on (its SHA-256 "
                              f"differs from world.data_sha256); refit with `make calibrate`, or run on it as it is "
                              f"with world.data_sha256={{}}")


def _excl(codes, reason, source) -> pd.DataFrame:
    return pd.DataFrame({"name": list(codes), "reason": reason, "rows": 1, "source": source})


def _pairs(cepii: pd.DataFrame, index: dict, n: int):
    c = cepii[cepii.origin.isin(index) & cepii.destination.isin(index)]
    o = c.origin.map(index).to_numpy()
    d = c.destination.map(index).to_numpy()
    dist = np.full((n, n), np.nan)
    dist[o, d] = c.distw_km.fillna(c.dist_km).to_numpy(float)
    lang = np.zeros((n, n), np.uint8)
    lang[o, d] = c.comlang_off.fillna(0).to_numpy()
    col = np.zeros((n, n), np.uint8)
    col[o, d] = c.colony.fillna(0).to_numpy()
    dist = np.where(np.isnan(dist), dist.T, dist)           # a pair given one way only
    missing = np.isnan(dist) & ~np.eye(n, dtype=bool)
    if missing.any():
        i, j = np.argwhere(missing)[0]
        raise DataError(f"cepii_geodist.csv: no distance for the pair {list(index)[i]}-{list(index)[j]} "
                        f"({int(missing.sum())} pairs missing)")
    np.fill_diagonal(dist, 0.0)
    np.fill_diagonal(lang, 0)
    np.fill_diagonal(col, 0)
    return np.maximum(dist, np.where(np.eye(n, dtype=bool), 0.0, 50.0)), lang, (col | col.T)


def incomes(scholars: pd.DataFrame, wdi: pd.DataFrame, codes, year: int) -> np.ndarray:
    """GDP per head of the start year in constant 2015 US dollars at market rates (World Bank
    NY.GDP.PCAP.KD, in the scholar-migration file; nearest year where the year is absent).

    Current dollars would carry exchange-rate swings into choices (Russia 16.0k -> 8.7k, Ukraine
    4.2k -> 2.2k from 2013 to 2016, with the same economy), and the WDI extract starts in 2013, so
    a backcast world of 2001 would have had 2013's incomes; this series reaches back to 1998. An
    economy without it (7 small or unreported ones in WDI, e.g. Kosovo, Venezuela) takes its current
    dollars of 2015, the base year where the two series coincide, or the nearest year to it.
    """
    const = nearest_year(scholars, year, ["gdp_pc_constant"]).set_index("country").gdp_pc_constant
    base = nearest_year(wdi, BASE_YEAR, ["gdp_pc_usd"]).set_index("country").gdp_pc_usd
    return np.array([const[c] if c in const.index else base[c] for c in codes], float)


def _researchers(scholars: pd.DataFrame, codes, year, gdp_pc, population) -> np.ndarray:
    """Researchers per country (scholar-migration data, nearest year); imputed from income where absent."""
    s = nearest_year(scholars, year, ["researchers"]).set_index("country").researchers
    have = np.array([c in s.index for c in codes])
    values = np.array([s.get(c, np.nan) for c in codes], float)
    per_capita = fpmath.log(values[have] / population[have] + 1e-9)
    slope, intercept = fpmath.linear_fit(fpmath.log(gdp_pc[have]), per_capita)
    values[~have] = fpmath.exp(intercept + slope * fpmath.log(gdp_pc[~have])) * population[~have]
    return np.maximum(values, 1.0)


def _names(iso: pd.DataFrame, codes) -> list[str]:
    names = dict(zip(iso.iso3, iso.name))
    return [names.get(c, c) for c in codes]


def _regions(distance: np.ndarray) -> np.ndarray:
    """Six regions: average-linkage clusters of the distance matrix (the data name no regions)."""
    labels = fcluster(linkage(squareform(distance, checks=False), "average"), REGIONS, criterion="maxclust")
    return (labels - 1).astype(np.int64)


def _stocks(stocks: pd.DataFrame, index: dict, n: int, year: int):
    """(C, C) observed degree-mobile stocks of the year nearest the start (NaN: unobserved destination)."""
    years = stocks.year.unique()
    y = years[np.argmin(np.abs(years - year))]
    s = stocks[stocks.year == y]
    keep = s.origin.isin(index) & s.destination.isin(index)
    out = np.full((n, n), np.nan)
    dests = s.destination[s.destination.isin(index)].unique()
    out[:, [index[d] for d in dests]] = 0.0
    k = s[keep]
    out[k.origin.map(index).to_numpy(), k.destination.map(index).to_numpy()] = k.students.to_numpy(float)
    lost = s[~keep]
    dropped = (lost.groupby(lost.origin.where(~lost.origin.isin(index), lost.destination)).students.sum()
               .reset_index().rename(columns={"origin": "name", "students": "rows"}))
    dropped["reason"] = f"OECD/UIS {y} students of a country outside the model world (count in 'rows')"
    dropped["source"] = "oecd/uis"
    np.fill_diagonal(out, 0.0)
    return out, dropped
