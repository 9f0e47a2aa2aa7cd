"""Loaders for the public calibration data described in the data directory's README.md.

Each loader takes the data directory, reads one file exactly as published, repairs that file's
known defects and returns a tidy frame keyed by ISO3 codes. Nothing is dropped silently: loaders
return a `LoadResult` whose `excluded` frame (name, reason, rows) lists every row left out or
value blanked, and why. A file that cannot be used raises `DataError` with a one-line message
naming the file and the line, column or value at fault.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import DataError

DataDir = str | Path

ISO_FILE = "iso3166_country_codes.csv"
OECD_FILE = "oecd_mobile_students_2013_2016.csv"
UIS_FILE = "uis_inbound_mobile_students_2000_2016.csv"
WDI_FILE = "wdi_selected_2013_2019.csv"
CEPII_FILE = "cepii_geodist.csv"
SCHOLAR_FILE = "scholar_migration_1998_2017.csv"
OPENALEX_FILE = "openalex_country_coauthorship_2000_2023.csv"

ISO_COLUMNS = ("COUNTRY", "2_DIGIT_CODE", "3_DIGIT_CODE")
OECD_COLUMNS = ("COUNTRY_OF_SCHOOL", "COUNTRY_OF_ORIGIN", "YEAR", "TOTAL_INTL_STUDENTS")
UIS_COLUMNS = ("indicatorId", "geoUnit", "year", "value", "qualifier", "magnitude")
WDI_COLUMNS = ("COUNTRY", "COUNTRY_CODE", "SERIES_NAME", "SERIES_CODE", "YEAR", "VALUE")
CEPII_COLUMNS = (
    "iso_o", "iso_d", "contig", "comlang_off", "comlang_ethno", "colony", "comcol", "curcol",
    "col45", "smctry", "dist", "distcap", "distw", "distwces",
)
SCHOLAR_COLUMNS = (
    "", "countrycode", "countryname", "year", "total_population_size",
    "padded_population_of_researchers", "logexposures", "number_of_outmigrations",
    "GDP_PCAP_PPP_Current", "GDP_PCAP_PPP_Const2017", "GDP_PCAP_Const2010",
)
OPENALEX_COLUMNS = ("year", "country_a", "country_b", "works")
EXCLUDED_COLUMNS = ("name", "reason", "rows")

# Names spelled differently from iso3166_country_codes.csv. The Curaçao key is the OECD file's
# double-encoded spelling: bytes C3 83 C2 A7 ("Ã§") where UTF-8 "ç" is C3 A7.
NAME_ALIASES: dict[str, str] = {
    "United States of America": "USA",
    "Russian Federation": "RUS",
    "Viet Nam": "VNM",
    "Cura\u00c3\u00a7ao": "CUW",
}
# Labels that statistical offices use for rows that are not a country.
NON_COUNTRY_NAMES = frozenset({"World", "Total", "Not specified", "Unknown"})

UIS_INDICATOR = "26637"  # inbound internationally mobile tertiary students
UIS_MAGNITUDES = frozenset({"", "NIL", "NA"})  # NIL: nil or negligible; NA: not applicable

# The World Bank codes Kosovo XKX; the ISO file uses KSV.
WDI_CODE_ALIASES = {"XKX": "KSV"}
WDI_SERIES = {
    "NY.GDP.MKTP.CD": "gdp_usd",
    "NY.GDP.MKTP.KD.ZG": "gdp_growth_pct",
    "NY.GDP.PCAP.CD": "gdp_pc_usd",
    "NY.GDP.PCAP.KD.ZG": "gdp_pc_growth_pct",
    "SE.XPD.CTER.ZS": "tertiary_current_exp_pct",
    "SE.XPD.TERT.PC.ZS": "tertiary_exp_per_student_pct_gdp_pc",
    "SE.XPD.TERT.ZS": "tertiary_share_of_edu_exp_pct",
    "SP.POP.GROW": "population_growth_pct",
    "SP.POP.TOTL": "population",
    "EN.POP.DNST": "population_density",
    "SP.URB.GROW": "urban_population_growth_pct",
    "SP.RUR.TOTL.ZG": "rural_population_growth_pct",
    "SL.UEM.ADVN.ZS": "unemployment_advanced_edu_pct",
}

CEPII_HISTORICAL = {"ROM": "ROU", "ZAR": "COD", "YUG": "SRB", "TMP": "TLS", "PAL": "PSE"}
CEPII_FLAGS = ("contig", "comlang_off", "comlang_ethno", "colony", "comcol", "curcol", "col45",
               "smctry")
CEPII_DISTANCES = {"dist": "dist_km", "distcap": "distcap_km", "distw": "distw_km",
                   "distwces": "distwces_km"}


@dataclass(frozen=True)
class LoadResult:
    """A loaded frame plus what was left out of it (or blanked in it) and why.

    `excluded` has columns name, reason, rows: `rows` counts the file rows affected.
    """

    frame: pd.DataFrame
    excluded: pd.DataFrame


# ---------------------------------------------------------------------------------------------
# Reading and parsing helpers


def _read_csv(path: str | Path, expected_columns: Sequence[str]) -> pd.DataFrame:
    """Read a CSV whose header must be exactly `expected_columns`, as strings.

    Values stay strings ('' for an empty field) so each loader decides what is missing: pandas'
    default NA parsing would turn Namibia's ISO2 code "NA" into NaN. The csv module is used rather
    than pandas because pandas silently pads short rows and turns a row with one extra field into
    an index. A UTF-8 byte-order mark is skipped. The index holds each row's file line number,
    for error messages.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise DataError(f"{path}: file is empty (expected header {list(expected_columns)})")
            _check_header(path, header, expected_columns)
            for row in reader:
                if not row:  # blank line
                    continue
                if len(row) != len(header):
                    raise DataError(f"{path}: line {reader.line_num} has {len(row)} fields, "
                                    f"expected {len(header)}")
                rows.append(row)
                lines.append(reader.line_num)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: unreadable ({_one_line(exc)})") from exc
    return pd.DataFrame(rows, columns=list(expected_columns), dtype=str,
                        index=pd.Index(lines, name="line"))


def _check_header(path: Path, header: list[str], expected: Sequence[str]) -> None:
    """Raise DataError naming the missing and unexpected columns if the header differs."""
    if header == list(expected):
        return
    missing = [c for c in expected if c not in header]
    unexpected = [c for c in header if c not in expected]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(map(repr, missing)))
    if unexpected:
        problems.append("unexpected " + ", ".join(map(repr, unexpected)))
    if not problems:
        problems.append("columns duplicated or out of order")
    raise DataError(f"{path}: header has {header}, expected {list(expected)} "
                    f"({'; '.join(problems)})")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _numbers(frame: pd.DataFrame, column: str, path: Path,
             missing: Iterable[str] = ("",)) -> pd.Series:
    """Parse a string column as float: `missing` tokens become NaN, anything else unparsable
    (or infinite) is an error naming the first bad line."""
    raw = frame[column]
    is_missing = raw.isin(list(missing))
    values = pd.to_numeric(raw.where(~is_missing), errors="coerce").astype(float)
    bad = (values.isna() | np.isinf(values)) & ~is_missing
    if bad.any():
        line = bad.idxmax()
        raise DataError(f"{path}: line {line}, column {column}: {raw[line]!r} is not a number "
                        f"({int(bad.sum())} such value(s))")
    return values


def _integers(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Parse a string column of whole numbers; no value may be missing."""
    values = _numbers(frame, column, path, missing=())
    fractional = values != values.round()
    if fractional.any():
        line = fractional.idxmax()
        raise DataError(f"{path}: line {line}, column {column}: {frame[column][line]!r} "
                        "is not a whole number")
    return values.astype("int64")


def _require_nonnegative(values: pd.Series, column: str, path: Path) -> None:
    """Counts cannot be negative; NaN (missing) passes."""
    negative = values < 0
    if negative.any():
        line = negative.idxmax()
        raise DataError(f"{path}: line {line}, column {column}: {values[line]} is negative")


def _require_unique(frame: pd.DataFrame, keys: list[str], path: Path) -> None:
    """Two rows for the same key would be summed or overwritten downstream: refuse them."""
    duplicated = frame.duplicated(keys, keep="first")
    if duplicated.any():
        line = duplicated.idxmax()
        key = ", ".join(f"{k}={frame.at[line, k]}" for k in keys)
        raise DataError(f"{path}: line {line}: duplicate row for {key} "
                        "(after mapping to ISO3 codes)")


# What the real world needs of each file (checked by real.build, not by the loaders, which also read
# excerpts): far below what the published files hold (in brackets), far above what a file cut short
# (a partial download, an interrupted copy) keeps.
COVERAGE = {  # file: {column: (minimum distinct values, what they are)}
    ISO_FILE: {"iso3": (200, "countries")},                                          # (250)
    OECD_FILE: {"destination": (20, "reporting destinations"), "origin": (100, "origins"), "year": (2, "years")},
    UIS_FILE: {"country": (50, "countries"), "year": (2, "years")},                  # (177; 2000-2016)
    WDI_FILE: {"country": (100, "countries")},                                       # (216)
    CEPII_FILE: {"origin": (100, "origins"), "destination": (100, "destinations")},  # (223 x 223)
    SCHOLAR_FILE: {"country": (100, "countries")},                                   # (210)
    OPENALEX_FILE: {"a": (100, "countries"), "year": (2, "years")},                  # (248; 2000-2023)
}                                                                                    # OECD: (39, 212, 4)


def require_coverage(frame: pd.DataFrame, data_dir: DataDir, name: str) -> pd.DataFrame:
    """Refuse a file that holds too little to build the world from (truncated, or mostly unusable)."""
    path = Path(data_dir) / name
    for column, (minimum, what) in COVERAGE[name].items():
        n = frame[column].nunique()
        if n < minimum:
            raise DataError(f"{path}: only {n} {what} ({len(frame)} usable rows); at least {minimum} expected "
                            f"(is the file truncated?)")
    return frame


def _excluded(names: pd.Series, reasons: pd.Series | str) -> pd.DataFrame:
    """One excluded entry per distinct (name, reason), counting the file rows affected."""
    entries = pd.DataFrame({"name": names.astype(str), "reason": reasons})
    if entries.empty:
        return _no_exclusions()
    counted = entries.groupby(["name", "reason"], sort=True).size().rename("rows").reset_index()
    return counted.astype({"rows": "int64"})


def _no_exclusions() -> pd.DataFrame:
    return pd.DataFrame({"name": pd.Series(dtype=str), "reason": pd.Series(dtype=str),
                         "rows": pd.Series(dtype="int64")})


def _concat_excluded(*parts: pd.DataFrame) -> pd.DataFrame:
    nonempty = [p for p in parts if not p.empty]
    if not nonempty:
        return _no_exclusions()
    return pd.concat(nonempty, ignore_index=True)


def _tidy(frame: pd.DataFrame, sort_by: list[str]) -> pd.DataFrame:
    """Sort and drop the line-number index used for error messages."""
    return frame.sort_values(sort_by, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Country codes and names


def load_iso_codes(data_dir: DataDir) -> pd.DataFrame:
    """Country names with ISO2 and ISO3 codes: frame[name, iso2, iso3], one row per country.

    Defect handled: Namibia's ISO2 code is the string "NA", which pandas' default parsing turns
    into a missing value; it is kept as "NA". Malformed or duplicated codes raise DataError.
    """
    path = Path(data_dir) / ISO_FILE
    raw = _read_csv(path, ISO_COLUMNS)
    frame = raw.rename(columns={"COUNTRY": "name", "2_DIGIT_CODE": "iso2", "3_DIGIT_CODE": "iso3"})
    for column, pattern in (("name", r".*\S.*"), ("iso2", r"[A-Z]{2}"), ("iso3", r"[A-Z]{3}")):
        bad = ~frame[column].str.fullmatch(pattern)
        if bad.any():
            line = bad.idxmax()
            raise DataError(f"{path}: line {line}, column {column}: "
                            f"{frame.at[line, column]!r} is not a valid value")
        _require_unique(frame, [column], path)
    return frame.reset_index(drop=True)


def _repair_mojibake(name: str) -> str:
    """Undo one round of UTF-8 read as cp1252/Latin-1 (e.g. 'RÃ©union' -> 'Réunion')."""
    for codec in ("cp1252", "latin-1"):
        try:
            return name.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
    return name


def country_name_to_iso3(names: Iterable[str], data_dir: DataDir, *,
                         source: str | Path) -> dict[str, str]:
    """Map each distinct country name to ISO3: {name: iso3}.

    Tries the ISO file's spelling, then NAME_ALIASES (the README's four mismatches, including the
    double-encoded Curaçao), then the name with one round of mis-encoding undone. Defect handled:
    unmatched names are never dropped; DataError names `source` and the unmatched names (the first
    ten, with how many more: a truncated ISO file would otherwise print a page).
    """
    iso = load_iso_codes(data_dir)
    by_name = dict(zip(iso["name"], iso["iso3"]))
    mapping: dict[str, str] = {}
    unmatched: list[str] = []
    for name in dict.fromkeys(names):  # distinct, in first-seen order
        code = by_name.get(name) or NAME_ALIASES.get(name) or by_name.get(_repair_mojibake(name))
        if code is None:
            unmatched.append(name)
        else:
            mapping[name] = code
    if unmatched:
        raise DataError(f"{source}: {len(unmatched)} country name(s) not in "
                        f"{Path(data_dir) / ISO_FILE} nor in the known aliases: "
                        + ", ".join(map(repr, unmatched[:10]))
                        + (f" and {len(unmatched) - 10} more" if len(unmatched) > 10 else ""))
    return mapping


def _iso3_codes(data_dir: DataDir) -> set[str]:
    return set(load_iso_codes(data_dir)["iso3"])


# ---------------------------------------------------------------------------------------------
# Student mobility


def load_oecd_mobile(data_dir: DataDir) -> LoadResult:
    """OECD mobile students as published: frame[year, origin, destination, students_raw].

    Defects handled: country names are mapped to ISO3 (aliases included; an unknown name raises);
    an empty count is missing (NaN), kept distinct from a reported 0; rows whose school or origin
    is an aggregate label (e.g. "World") and rows with origin == destination (not international)
    are excluded and listed. Counts are still double-counted: see `rescaled_oecd_stocks`.
    """
    path = Path(data_dir) / OECD_FILE
    raw = _read_csv(path, OECD_COLUMNS)
    students = _numbers(raw, "TOTAL_INTL_STUDENTS", path)
    _require_nonnegative(students, "TOTAL_INTL_STUDENTS", path)
    frame = pd.DataFrame({
        "year": _integers(raw, "YEAR", path),
        "origin": raw["COUNTRY_OF_ORIGIN"],
        "destination": raw["COUNTRY_OF_SCHOOL"],
        "students_raw": students,
    })

    school_aggregate = frame["destination"].isin(NON_COUNTRY_NAMES)
    origin_aggregate = frame["origin"].isin(NON_COUNTRY_NAMES)
    aggregate = school_aggregate | origin_aggregate
    aggregates = _excluded(frame["destination"].where(school_aggregate, frame["origin"])[aggregate],
                           "aggregate label, not a country")
    frame = frame[~aggregate].copy()

    codes = country_name_to_iso3(pd.concat([frame["destination"], frame["origin"]]), data_dir,
                                 source=path)
    frame["origin"] = frame["origin"].map(codes)
    frame["destination"] = frame["destination"].map(codes)

    # OECD counts students by country of prior education: origin == destination is not mobility.
    own = frame["origin"] == frame["destination"]
    own_rows = _excluded(frame["destination"][own], "origin equals destination: not international")
    frame = frame[~own]
    _require_unique(frame, ["year", "origin", "destination"], path)
    return LoadResult(_tidy(frame, ["year", "destination", "origin"]),
                      _concat_excluded(aggregates, own_rows))


def load_uis_inbound(data_dir: DataDir) -> LoadResult:
    """UIS inbound mobile tertiary students per country: frame[country, year, inbound] (float).

    Defects handled: regional aggregates in geoUnit ("WB: ...", "SDG: ...", "UIS: ...",
    "40000"-style numbers, any other non-ISO3 label) are excluded with reason "regional
    aggregate"; a 3-letter code missing from the ISO list is excluded as unknown. Beyond the
    README: magnitude "NA" (not applicable) is published as value 0 and is loaded as NaN, while
    magnitude "NIL" (nil) stays 0.
    """
    path = Path(data_dir) / UIS_FILE
    raw = _read_csv(path, UIS_COLUMNS)
    other = raw["indicatorId"] != UIS_INDICATOR
    if other.any():  # mixing indicators would silently sum unlike quantities
        line = other.idxmax()
        raise DataError(f"{path}: line {line}, column indicatorId: {raw.at[line, 'indicatorId']!r}"
                        f", expected {UIS_INDICATOR!r} only")
    odd = ~raw["magnitude"].isin(UIS_MAGNITUDES)
    if odd.any():
        line = odd.idxmax()
        raise DataError(f"{path}: line {line}, column magnitude: {raw.at[line, 'magnitude']!r} "
                        f"is not one of {sorted(UIS_MAGNITUDES)}")

    inbound = _numbers(raw, "value", path)
    _require_nonnegative(inbound, "value", path)
    inbound = inbound.mask(raw["magnitude"] == "NA")
    frame = pd.DataFrame({"country": raw["geoUnit"], "year": _integers(raw, "year", path),
                          "inbound": inbound})

    is_country = frame["country"].isin(_iso3_codes(data_dir))
    looks_iso3 = frame["country"].str.fullmatch(r"[A-Z]{3}")
    reasons = np.where(looks_iso3, "3-letter code not in the ISO 3166 list", "regional aggregate")
    reasons = pd.Series(reasons, index=frame.index)
    excluded = _excluded(frame["country"][~is_country], reasons[~is_country])
    frame = frame[is_country]
    _require_unique(frame, ["country", "year"], path)
    return LoadResult(_tidy(frame, ["country", "year"]), excluded)


def _nearest_uis_totals(keys: pd.DataFrame, uis: pd.DataFrame) -> pd.DataFrame:
    """For each (destination, year) in `keys`, the UIS inbound total of the nearest year that has
    a value: frame[destination, year, uis_year, uis_inbound]. Ties go to the earlier year (the
    figure that was already published at the time). Destinations without any value are absent.
    """
    available = uis.dropna(subset=["inbound"]).rename(
        columns={"country": "destination", "year": "uis_year", "inbound": "uis_inbound"})
    pairs = keys.merge(available, on="destination")
    pairs["gap"] = (pairs["uis_year"] - pairs["year"]).abs()
    nearest = pairs.sort_values(["destination", "year", "gap", "uis_year"], kind="stable")
    nearest = nearest.drop_duplicates(["destination", "year"], keep="first")
    return nearest[["destination", "year", "uis_year", "uis_inbound"]]


def rescaled_oecd_stocks(data_dir: DataDir) -> LoadResult:
    """OECD stocks fixed for double counting: frame[year, origin, destination, students] (float).

    Defect handled: TOTAL_INTL_STUDENTS sums ISCED 5-8 with its own parts, inflating each
    destination by a different factor. Only within-destination origin shares are kept: each
    destination-year is rescaled so its column sum equals the UIS inbound total of that
    destination (nearest UIS year with a value when UIS has a gap). Destination-years whose OECD
    column sums to 0 (no shares) or whose destination has no UIS value are excluded and listed.
    Missing OECD cells stay NaN.
    """
    oecd = load_oecd_mobile(data_dir)
    uis = load_uis_inbound(data_dir).frame
    flows = oecd.frame
    columns = (flows.groupby(["destination", "year"])["students_raw"]
               .agg(column_sum="sum", rows="size").reset_index())  # sum skips missing cells
    totals = _nearest_uis_totals(columns[["destination", "year"]], uis)
    columns = columns.merge(totals, on=["destination", "year"], how="left")

    no_uis = columns["uis_inbound"].isna()
    no_shares = ~no_uis & (columns["column_sum"] <= 0)
    year = columns["year"].astype(str)
    reasons = pd.Series(np.where(no_uis, "no UIS inbound total in any year, for " + year,
                                 "OECD column sum is 0 (no origin shares) in " + year),
                        index=columns.index)
    dropped = columns[no_uis | no_shares]
    excluded = _excluded(dropped["destination"].repeat(dropped["rows"]),
                         reasons[dropped.index].repeat(dropped["rows"]))

    usable = columns[~(no_uis | no_shares)]
    out = flows.merge(usable[["destination", "year", "column_sum", "uis_inbound"]],
                      on=["destination", "year"], how="inner")
    out["students"] = out["students_raw"] / out["column_sum"] * out["uis_inbound"]
    frame = out[["year", "origin", "destination", "students"]]
    return LoadResult(_tidy(frame, ["year", "destination", "origin"]),
                      _concat_excluded(oecd.excluded, excluded))


# ---------------------------------------------------------------------------------------------
# Country covariates


def _series_column(code: str) -> str:
    """Short snake_case column for a WDI series; unknown series fall back to the code itself."""
    return WDI_SERIES.get(code) or code.lower().replace(".", "_")


def load_wdi(data_dir: DataDir) -> LoadResult:
    """WDI indicators, wide: frame[country, year, <one snake_case column per series>] (float).

    Defects handled: WDI mixes economies with aggregates ("World", "High income", ...) whose codes
    are not ISO3; any code not in the ISO list is excluded and listed with its name (this also
    catches the non-ISO "Channel Islands", CHI). Kosovo's World Bank code XKX is mapped to the ISO
    file's KSV. Empty or ".." values are missing.
    """
    path = Path(data_dir) / WDI_FILE
    raw = _read_csv(path, WDI_COLUMNS)
    code = raw["COUNTRY_CODE"].replace(WDI_CODE_ALIASES)
    long = pd.DataFrame({
        "country": code,
        "year": _integers(raw, "YEAR", path),
        "series": raw["SERIES_CODE"].map(_series_column),
        "value": _numbers(raw, "VALUE", path, missing=("", "..")),
    })
    is_country = code.isin(_iso3_codes(data_dir))
    excluded = _excluded((code + " (" + raw["COUNTRY"] + ")")[~is_country],
                         "not a country: code not in the ISO 3166 list (WDI aggregate)")
    # a population or GDP of zero or less cannot be right: missing, and listed
    sizes = long.series.isin(["population", "gdp_usd", "gdp_pc_usd"]) & (long.value <= 0)
    excluded = pd.concat([excluded, _excluded((code + " " + long.series.astype(str) + " " + long.year.astype(str))
                                              [sizes & is_country], "value <= 0 for a size (set missing)")],
                         ignore_index=True)
    long.loc[sizes, "value"] = np.nan
    long = long[is_country]
    _require_unique(long, ["country", "year", "series"], path)

    wide = long.pivot(index=["country", "year"], columns="series", values="value")
    known = [c for c in WDI_SERIES.values() if c in wide.columns]
    wide = wide[known + sorted(set(wide.columns) - set(known))].reset_index()
    wide.columns.name = None
    return LoadResult(_tidy(wide, ["country", "year"]), excluded)


def load_cepii(data_dir: DataDir) -> LoadResult:
    """CEPII GeoDist pairs: frame[origin, destination, dist_km, distcap_km, distw_km, distwces_km,
    contig, comlang_off, comlang_ethno, colony, comcol, curcol, col45, smctry] (float; flags 0/1).

    Defects handled: the UTF-8 byte-order mark (skipped by `_read_csv`); historical codes ROM,
    ZAR, YUG, TMP, PAL remapped to ROU, COD, SRB, TLS, PSE (if a remapped pair duplicates a pair
    already under the current code, the current code's row is kept and the other listed). Beyond
    the README: "." (Stata's missing value) in distw/distwces is NaN; a row with an empty code is
    excluded; a flag that is not 0/1 (curcol = 'ROU' on ROU-BOL) is set to missing and listed;
    codes with no ISO3 successor (ANT, Netherlands Antilles) are excluded and listed.
    """
    path = Path(data_dir) / CEPII_FILE
    raw = _read_csv(path, CEPII_COLUMNS)

    empty = (raw["iso_o"] == "") | (raw["iso_d"] == "")
    pair = raw["iso_o"].replace("", "?") + "-" + raw["iso_d"].replace("", "?")
    empties = _excluded(pair[empty], "empty country code")
    raw = raw[~empty].copy()

    blanked = []
    for flag in CEPII_FLAGS:
        bad = ~raw[flag].isin(["0", "1"])
        blanked.append(_excluded(pair[bad.index[bad]],
                                 f"{flag} value(s) " + raw[flag][bad].map(repr)
                                 + " not 0/1: set to missing, row kept"))
        raw.loc[bad, flag] = ""

    frame = pd.DataFrame({"origin": raw["iso_o"].replace(CEPII_HISTORICAL),
                          "destination": raw["iso_d"].replace(CEPII_HISTORICAL)})
    for column, name in CEPII_DISTANCES.items():  # "." is Stata's missing (distw, distwces)
        frame[name] = _numbers(raw, column, path, missing=("", "."))
    for flag in CEPII_FLAGS:
        frame[flag] = _numbers(raw, flag, path)

    iso3 = _iso3_codes(data_dir)
    unknown = ~frame["origin"].isin(iso3) | ~frame["destination"].isin(iso3)
    unknown_code = frame["origin"].where(~frame["origin"].isin(iso3), frame["destination"])
    unknowns = _excluded(unknown_code[unknown],
                         "code not in the ISO 3166 list (no single current successor)")
    frame, raw = frame[~unknown], raw[~unknown]

    collisions = _drop_remap_collisions(frame, raw)
    frame = frame.drop(index=collisions.index)
    _require_unique(frame, ["origin", "destination"], path)
    excluded = _concat_excluded(empties, *blanked, unknowns,
                                _excluded(collisions["name"], collisions["reason"]))
    return LoadResult(_tidy(frame, ["origin", "destination"]), excluded)


def _drop_remap_collisions(frame: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """Rows whose remapped pair also exists with fewer historical codes: frame[name, reason]
    indexed like `frame`. Prefers the row published under current codes."""
    historical = raw["iso_o"].isin(CEPII_HISTORICAL).astype(int) + raw["iso_d"].isin(
        CEPII_HISTORICAL).astype(int)
    order = historical.sort_values(kind="stable").index
    duplicate = frame.loc[order].duplicated(["origin", "destination"], keep="first")
    losers = duplicate.index[duplicate]
    code = raw.loc[losers, "iso_o"].where(raw.loc[losers, "iso_o"].isin(CEPII_HISTORICAL),
                                          raw.loc[losers, "iso_d"])
    reason = ("historical code remapped to " + code.map(CEPII_HISTORICAL)
              + " duplicates a row under the current code: kept the current code's row")
    return pd.DataFrame({"name": code, "reason": reason}, index=losers)


def load_scholar_migration(data_dir: DataDir) -> LoadResult:
    """Scholar migration (Sanliturk et al. 2023):
    frame[country, year, researchers, outmigrations, population, gdp_pc_ppp, gdp_pc_constant] (float).

    Defects handled: the unnamed first column (an R row index) is dropped; R's "NA" is missing.
    `gdp_pc_ppp` is GDP per capita PPP in constant 2017 dollars (comparable across years).
    `gdp_pc_constant` is GDP per capita at market exchange rates in constant US dollars (World Bank
    NY.GDP.PCAP.KD): the file labels it "Const2010", but its values are in 2015 dollars (they equal
    current US dollars in 2015, for every country) — free of the exchange-rate swings of current dollars.
    Codes not in the ISO list are excluded and listed.
    """
    path = Path(data_dir) / SCHOLAR_FILE
    raw = _read_csv(path, SCHOLAR_COLUMNS)
    missing = ("", "NA")
    frame = pd.DataFrame({
        "country": raw["countrycode"],
        "year": _integers(raw, "year", path),
        "researchers": _numbers(raw, "padded_population_of_researchers", path, missing),
        "outmigrations": _numbers(raw, "number_of_outmigrations", path, missing),
        "population": _numbers(raw, "total_population_size", path, missing),
        "gdp_pc_ppp": _numbers(raw, "GDP_PCAP_PPP_Const2017", path, missing),
        "gdp_pc_constant": _numbers(raw, "GDP_PCAP_Const2010", path, missing),
    })
    for column in ("researchers", "outmigrations", "population", "gdp_pc_ppp", "gdp_pc_constant"):
        _require_nonnegative(frame[column], column, path)
    is_country = frame["country"].isin(_iso3_codes(data_dir))
    excluded = _excluded(frame["country"][~is_country], "code not in the ISO 3166 list")
    frame = frame[is_country]
    _require_unique(frame, ["country", "year"], path)
    return LoadResult(_tidy(frame, ["country", "year"]), excluded)


# ---------------------------------------------------------------------------------------------
# Research co-authorship


def load_openalex_coauthorship(data_dir: DataDir) -> LoadResult:
    """OpenAlex country co-authorship: frame[year, a, b, works], ISO3, each unordered pair once
    with a <= b; a row with a == b holds that country's own count.

    Defects handled: ISO2 codes converted to ISO3 with the ISO file, keeping Namibia's "NA"
    (pandas would read it as missing); codes not in the ISO file are excluded and listed.
    """
    path = Path(data_dir) / OPENALEX_FILE
    raw = _read_csv(path, OPENALEX_COLUMNS)
    iso = load_iso_codes(data_dir)
    to_iso3 = dict(zip(iso["iso2"], iso["iso3"]))
    works = _integers(raw, "works", path)
    _require_nonnegative(works, "works", path)
    a, b = raw["country_a"].map(to_iso3), raw["country_b"].map(to_iso3)

    unknown = a.isna() | b.isna()
    unknown_code = raw["country_a"].where(a.isna(), raw["country_b"])
    excluded = _excluded(unknown_code[unknown], "ISO2 code not in the ISO 3166 list")
    keep = ~unknown
    a, b = a[keep], b[keep]
    frame = pd.DataFrame({"year": _integers(raw, "year", path)[keep],
                          "a": a.where(a <= b, b), "b": b.where(a <= b, a),
                          "works": works[keep]})
    _require_unique(frame, ["year", "a", "b"], path)
    return LoadResult(_tidy(frame, ["year", "a", "b"]), excluded)


def intl_coauthorship_share(frame: pd.DataFrame) -> pd.DataFrame:
    """Per country-year: frame[year, country, total_works, intl_pair_works, share_upper_bound].

    total_works (float) is the diagonal (a == b), NaN if the country has no diagonal row;
    intl_pair_works (int) the sum of the country's off-diagonal pairs; share_upper_bound their
    ratio (NaN where total_works is 0 or NaN). Defect handled
    (README): pairs are full counts, so a work with k countries adds k-1 to each country's pair
    sum and the ratio only bounds the internationally co-authored share from above.
    Caveat found in the shipped file: the ratio is >= 1 for every country-year, i.e. the diagonal
    seems to count only internationally co-authored works; the ratio is then the mean number of
    partner countries per such work, not a share.
    """
    own = frame["a"] == frame["b"]
    pairs = frame[~own]
    ends = pd.concat([pairs[["year", "a", "works"]].rename(columns={"a": "country"}),
                      pairs[["year", "b", "works"]].rename(columns={"b": "country"})])
    intl = ends.groupby(["year", "country"])["works"].sum().rename("intl_pair_works")
    total = (frame[own].rename(columns={"a": "country"})
             .groupby(["year", "country"])["works"].sum().rename("total_works"))
    out = pd.concat([total, intl], axis=1).reset_index()
    out["intl_pair_works"] = out["intl_pair_works"].fillna(0).astype("int64")
    out["total_works"] = out["total_works"].astype(float)  # NaN: pairs but no diagonal row
    out["share_upper_bound"] = out["intl_pair_works"] / out["total_works"].where(
        out["total_works"] > 0)
    return _tidy(out[["year", "country", "total_works", "intl_pair_works", "share_upper_bound"]],
                 ["year", "country"])
