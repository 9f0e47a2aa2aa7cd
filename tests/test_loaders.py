"""Tests of sim.world.loaders on the real data files and on broken copies of them.

The data directory is $HEMSIM_DATA_DIR, else ../shared/data next to the repository root.
"""

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import DataError
from sim.world import loaders as L

DATA_DIR = Path(os.environ.get("HEMSIM_DATA_DIR",
                               Path(__file__).resolve().parents[2] / "shared" / "data"))
CURACAO_MOJIBAKE = b"Cura\xc3\x83\xc2\xa7ao".decode("utf-8")  # as the OECD file spells it


@pytest.fixture(scope="module")
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.skip(f"data directory not found: {DATA_DIR} (set HEMSIM_DATA_DIR)")
    return DATA_DIR


@pytest.fixture(scope="module")
def iso3(data_dir) -> set[str]:
    return set(L.load_iso_codes(data_dir)["iso3"])


@pytest.fixture(scope="module")
def oecd(data_dir) -> L.LoadResult:
    return L.load_oecd_mobile(data_dir)


@pytest.fixture(scope="module")
def uis(data_dir) -> L.LoadResult:
    return L.load_uis_inbound(data_dir)


@pytest.fixture(scope="module")
def rescaled(data_dir) -> L.LoadResult:
    return L.rescaled_oecd_stocks(data_dir)


@pytest.fixture(scope="module")
def cepii(data_dir) -> L.LoadResult:
    return L.load_cepii(data_dir)


@pytest.fixture(scope="module")
def openalex(data_dir) -> L.LoadResult:
    return L.load_openalex_coauthorship(data_dir)


def raw_rows(path: Path) -> list[dict[str, str]]:
    """The file as plain csv dicts: an oracle independent of the loaders."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def tmp_data_dir(tmp_path: Path, data_dir: Path, **files: str) -> Path:
    """A data dir with the real ISO file and the given file contents (name=text)."""
    shutil.copy(data_dir / L.ISO_FILE, tmp_path / L.ISO_FILE)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


OECD_HEADER = "COUNTRY_OF_SCHOOL,COUNTRY_OF_ORIGIN,YEAR,TOTAL_INTL_STUDENTS\n"


# --- ISO codes and names -------------------------------------------------------------------

def test_iso_codes_keep_namibia_na(data_dir):
    iso = L.load_iso_codes(data_dir)
    assert list(iso.columns) == ["name", "iso2", "iso3"]
    assert len(iso) == 250 and iso["iso2"].notna().all()
    assert iso.set_index("iso3").at["NAM", "iso2"] == "NA"


@pytest.mark.parametrize("name,code", [
    ("United States of America", "USA"), ("Russian Federation", "RUS"),
    ("Viet Nam", "VNM"), (CURACAO_MOJIBAKE, "CUW"), ("France", "FRA"),
    ("R\u00c3\u00a9union", "REU"),  # other mis-encoded names are repaired too
])
def test_name_aliases_map(data_dir, name, code):
    assert L.country_name_to_iso3([name], data_dir, source="x.csv") == {name: code}


def test_curacao_alias_matches_the_bytes_in_the_oecd_file(data_dir):
    assert b"Cura\xc3\x83\xc2\xa7ao," in (data_dir / L.OECD_FILE).read_bytes()


def test_unknown_names_raise_naming_all_of_them(data_dir):
    with pytest.raises(DataError) as exc:
        L.country_name_to_iso3(["France", "Atlantis", "Narnia"], data_dir, source="flows.csv")
    message = one_line(exc)
    assert "flows.csv" in message and "'Atlantis'" in message and "'Narnia'" in message
    assert "'France'" not in message


# --- OECD -----------------------------------------------------------------------------------

def test_oecd_codes_years_and_aliases(oecd, iso3):
    frame = oecd.frame
    assert list(frame.columns) == ["year", "origin", "destination", "students_raw"]
    assert set(frame["year"]) == {2013, 2014, 2015, 2016}
    assert frame["destination"].nunique() == 39
    assert set(frame["origin"]) | set(frame["destination"]) <= iso3
    assert {"USA", "RUS"} <= set(frame["destination"])
    assert {"VNM", "CUW", "USA", "RUS"} <= set(frame["origin"])
    assert not frame.duplicated(["year", "origin", "destination"]).any()


def test_oecd_own_country_rows_excluded_and_listed(oecd):
    assert not (oecd.frame["origin"] == oecd.frame["destination"]).any()
    own = oecd.excluded[oecd.excluded["reason"].str.contains("origin equals destination")]
    assert len(own) == 39 and own["rows"].sum() == 156
    assert "CHE" in set(own["name"])  # Switzerland reports 424 "mobile" Swiss in 2013


def test_oecd_zero_stays_zero_and_blank_count_matches_file(data_dir, oecd):
    rows = [r for r in raw_rows(data_dir / L.OECD_FILE)
            if r["COUNTRY_OF_SCHOOL"] != r["COUNTRY_OF_ORIGIN"]]
    zeros = sum(r["TOTAL_INTL_STUDENTS"] == "0" for r in rows)
    blanks = sum(r["TOTAL_INTL_STUDENTS"] == "" for r in rows)
    assert zeros > 10_000
    assert (oecd.frame["students_raw"] == 0).sum() == zeros
    assert oecd.frame["students_raw"].isna().sum() == blanks  # 0 in the shipped file


def test_oecd_blank_is_missing_not_zero(tmp_path, data_dir):
    text = OECD_HEADER + "France,Germany,2013,\nFrance,Italy,2013,0\nFrance,Spain,2013,7\n"
    frame = L.load_oecd_mobile(tmp_data_dir(tmp_path, data_dir, **{L.OECD_FILE: text})).frame
    value = frame.set_index("origin")["students_raw"]
    assert np.isnan(value["DEU"]) and value["ITA"] == 0 and value["ESP"] == 7


def test_oecd_aggregate_origin_is_excluded_and_listed(tmp_path, data_dir):
    text = OECD_HEADER + "France,World,2013,90\nFrance,Spain,2013,7\n"
    result = L.load_oecd_mobile(tmp_data_dir(tmp_path, data_dir, **{L.OECD_FILE: text}))
    assert list(result.frame["origin"]) == ["ESP"]
    assert result.excluded.set_index("name").at["World", "rows"] == 1


def test_oecd_unknown_name_raises_naming_file_and_name(tmp_path, data_dir):
    text = OECD_HEADER + "France,Atlantis,2013,3\nFrance,Spain,2013,7\n"
    with pytest.raises(DataError) as exc:
        L.load_oecd_mobile(tmp_data_dir(tmp_path, data_dir, **{L.OECD_FILE: text}))
    assert L.OECD_FILE in one_line(exc) and "'Atlantis'" in one_line(exc)


def test_changed_header_raises_naming_file_and_columns(tmp_path, data_dir):
    real = (data_dir / L.OECD_FILE).read_text(encoding="utf-8")
    text = real.replace("TOTAL_INTL_STUDENTS", "STUDENTS", 1)
    with pytest.raises(DataError) as exc:
        L.load_oecd_mobile(tmp_data_dir(tmp_path, data_dir, **{L.OECD_FILE: text}))
    message = one_line(exc)
    assert L.OECD_FILE in message
    assert "missing 'TOTAL_INTL_STUDENTS'" in message and "unexpected 'STUDENTS'" in message


def test_reordered_header_raises(tmp_path, data_dir):
    text = "COUNTRY_OF_ORIGIN,COUNTRY_OF_SCHOOL,YEAR,TOTAL_INTL_STUDENTS\nSpain,France,2013,7\n"
    with pytest.raises(DataError, match=r"oecd_mobile.*header has .*out of order"):
        L.load_oecd_mobile(tmp_data_dir(tmp_path, data_dir, **{L.OECD_FILE: text}))


def test_missing_file_raises(tmp_path):
    with pytest.raises(DataError, match=r"^data file not found: .*oecd_mobile"):
        L.load_oecd_mobile(tmp_path)


def test_unreadable_file_raises(tmp_path, data_dir):
    data = tmp_data_dir(tmp_path, data_dir)
    (data / L.OECD_FILE).write_bytes(OECD_HEADER.encode() + b"France,Espa\xf1a,2013,7\n")
    with pytest.raises(DataError, match=r"oecd_mobile.*unreadable"):
        L.load_oecd_mobile(data)


@pytest.mark.parametrize("row,expected", [
    ("France,Spain,2013,seven", r"line 2, column TOTAL_INTL_STUDENTS: 'seven' is not a number"),
    ("France,Spain,2013,-7", r"line 2, column TOTAL_INTL_STUDENTS: -7.0 is negative"),
    ("France,Spain,2013", r"line 2 has 3 fields, expected 4"),
    ("France,Spain,2013,7,1", r"line 2 has 5 fields, expected 4"),
    ("France,Spain,2013.5,7", r"line 2, column YEAR: '2013.5' is not a whole number"),
    ("France,Italy,2013,5", r"line 3: duplicate row for year=2013, origin=ITA, destination=FRA"),
])
def test_bad_values_raise_naming_line_column_value(tmp_path, data_dir, row, expected):
    text = OECD_HEADER + row + "\nFrance,Italy,2013,1\n"
    with pytest.raises(DataError, match=expected) as exc:
        L.load_oecd_mobile(tmp_data_dir(tmp_path, data_dir, **{L.OECD_FILE: text}))
    assert L.OECD_FILE in one_line(exc)


# --- UIS ------------------------------------------------------------------------------------

def test_uis_aggregates_gone_and_listed(data_dir, uis, iso3):
    codes = {r["geoUnit"] for r in raw_rows(data_dir / L.UIS_FILE)}
    assert set(uis.frame["country"]) <= iso3
    assert not uis.frame["country"].str.contains(":").any()
    assert set(uis.excluded["name"]) == codes - iso3  # every dropped code is listed
    assert {"WB: World", "SDG: World", "UIS: World", "CECC-SICA"} <= set(uis.excluded["name"])
    assert set(uis.excluded["reason"]) == {"regional aggregate"}


def test_uis_numeric_aggregate_and_not_applicable(tmp_path, data_dir):
    text = ("indicatorId,geoUnit,year,value,qualifier,magnitude\n"
            "26637,40000,2013,900,,\n26637,AIA,2013,0,,NA\n26637,AIA,2014,0,,NIL\n"
            "26637,FRA,2013,5,,\n")
    result = L.load_uis_inbound(tmp_data_dir(tmp_path, data_dir, **{L.UIS_FILE: text}))
    inbound = result.frame.set_index(["country", "year"])["inbound"]
    assert np.isnan(inbound["AIA", 2013]) and inbound["AIA", 2014] == 0
    assert result.excluded.to_dict("records") == [
        {"name": "40000", "reason": "regional aggregate", "rows": 1}]


# --- OECD rescaled to UIS (double counting) --------------------------------------------------

def nearest_uis(uis_frame: pd.DataFrame, country: str, year: int) -> float:
    """Oracle: value of the nearest year with data, earlier year on ties."""
    rows = uis_frame[(uis_frame["country"] == country) & uis_frame["inbound"].notna()]
    best = min(rows.itertuples(), key=lambda r: (abs(r.year - year), r.year))
    return best.inbound


def test_rescaled_column_sums_equal_uis_totals(rescaled, uis):
    sums = rescaled.frame.groupby(["destination", "year"])["students"].sum()
    assert len(sums) == 39 * 4 - 9  # SVN, MEX x 4 years and COL 2013 excluded
    for (destination, year), total in sums.items():
        assert total == pytest.approx(nearest_uis(uis.frame, destination, year), rel=1e-9)


@pytest.mark.parametrize("destination,year,uis_total", [
    ("DEU", 2013, 196_619), ("USA", 2016, 971_417), ("GBR", 2014, 428_724),
    ("RUS", 2013, 173_627),  # UIS gap: 2012 and 2014 equally near, earlier taken
    ("RUS", 2015, 213_347),  # UIS gap: 2014 taken
])
def test_rescaled_known_totals(rescaled, destination, year, uis_total):
    frame = rescaled.frame
    column = frame[(frame["destination"] == destination) & (frame["year"] == year)]
    assert column["students"].sum() == pytest.approx(uis_total)


def test_double_counting_was_there_and_shares_are_kept(oecd, rescaled):
    raw = oecd.frame.set_index(["year", "origin", "destination"])["students_raw"]
    fixed = rescaled.frame.set_index(["year", "origin", "destination"])["students"]
    gbr = (slice(None), slice(None), "GBR")
    assert 1.85 < raw.loc[2014, :, "GBR"].sum() / fixed.loc[2014, :, "GBR"].sum() < 2.05
    raw_share = raw.loc[gbr] / raw.loc[gbr].groupby("year").transform("sum")
    fixed_share = fixed.loc[gbr] / fixed.loc[gbr].groupby("year").transform("sum")
    pd.testing.assert_series_equal(raw_share, fixed_share, check_names=False)


def test_rescaled_excludes_zero_columns_with_reason(oecd, rescaled):
    assert not {"SVN", "MEX"} & set(rescaled.frame["destination"])
    assert not ((rescaled.frame["destination"] == "COL") & (rescaled.frame["year"] == 2013)).any()
    zero = rescaled.excluded[rescaled.excluded["reason"].str.startswith("OECD column sum is 0")]
    assert sorted(zero["name"]) == ["COL"] + ["MEX"] * 4 + ["SVN"] * 4
    assert "CRI" not in set(oecd.frame["destination"])  # README's Costa Rica is not in the file
    assert rescaled.frame["students"].notna().all()


# --- WDI ------------------------------------------------------------------------------------

def test_wdi_countries_only_with_short_columns(data_dir, iso3):
    result = L.load_wdi(data_dir)
    frame = result.frame
    assert list(frame.columns[:2]) == ["country", "year"]
    assert set(L.WDI_SERIES.values()) == set(frame.columns[2:])
    assert set(frame["country"]) <= iso3 and "KSV" in set(frame["country"])  # XKX remapped
    excluded = set(result.excluded["name"].str[:3])
    assert {"WLD", "HIC", "EUU", "CHI"} <= excluded and not excluded & iso3
    usa = frame.set_index(["country", "year"]).loc[("USA", 2019)]
    assert 3.2e8 < usa["population"] < 3.4e8 and 2.0e13 < usa["gdp_usd"] < 2.3e13


# --- CEPII ----------------------------------------------------------------------------------

def test_cepii_bom_handled_and_codes_current(data_dir, cepii, iso3):
    assert (data_dir / L.CEPII_FILE).read_bytes().startswith(b"\xef\xbb\xbf")
    frame = cepii.frame
    codes = set(frame["origin"]) | set(frame["destination"])
    assert codes <= iso3
    assert not codes & set(L.CEPII_HISTORICAL)
    assert set(L.CEPII_HISTORICAL.values()) <= codes
    assert not frame.duplicated(["origin", "destination"]).any()
    fra_deu = frame.set_index(["origin", "destination"]).loc[("FRA", "DEU")]
    assert fra_deu["distcap_km"] == pytest.approx(880.187) and fra_deu["contig"] == 1


def test_cepii_defects_beyond_readme(cepii):
    excluded = cepii.excluded.set_index("name")
    assert excluded.at["ZAF-?", "reason"] == "empty country code"
    assert "curcol" in excluded.at["ROU-BOL", "reason"]
    assert excluded.at["ANT", "rows"] == 2 * 224 - 1
    rou_bol = cepii.frame.set_index(["origin", "destination"]).loc[("ROU", "BOL")]
    assert np.isnan(rou_bol["curcol"]) and rou_bol["dist_km"] > 10_000
    assert cepii.frame["distw_km"].isna().sum() > 0  # Stata "." read as missing
    flags = cepii.frame[list(L.CEPII_FLAGS)].stack().dropna()
    assert set(flags) == {0.0, 1.0}


def test_cepii_remap_prefers_current_code_on_collision(tmp_path, data_dir):
    header = ",".join(L.CEPII_COLUMNS) + "\n"
    rest = ",0,0,0,0,0,0,0,0,100,100,100,100\n"
    text = (header + "ROM,FRA" + rest.replace("100", "999") + "ROU,FRA" + rest
            + "ZAR,FRA" + rest + "FRA,PAL" + rest)  # no BOM here: also accepted
    result = L.load_cepii(tmp_data_dir(tmp_path, data_dir, **{L.CEPII_FILE: text}))
    dist = result.frame.set_index(["origin", "destination"])["dist_km"]
    assert dist.to_dict() == {("COD", "FRA"): 100, ("FRA", "PSE"): 100, ("ROU", "FRA"): 100}
    assert result.excluded.to_dict("records") == [{
        "name": "ROM", "rows": 1,
        "reason": "historical code remapped to ROU duplicates a row under the current code: "
                  "kept the current code's row"}]


# --- Scholar migration ----------------------------------------------------------------------

def test_scholar_migration(data_dir, iso3):
    result = L.load_scholar_migration(data_dir)
    frame = result.frame
    assert list(frame.columns) == ["country", "year", "researchers", "outmigrations",
                                   "population", "gdp_pc_ppp", "gdp_pc_constant"]
    assert frame["country"].nunique() == 210 and set(frame["country"]) <= iso3
    assert frame["year"].between(1998, 2017).all() and result.excluded.empty
    assert frame["population"].isna().sum() == 25  # R "NA" is missing
    usa = frame.set_index(["country", "year"]).loc[("USA", 2017)]
    assert usa["researchers"] > 5e5 and usa["outmigrations"] > 1e3


def test_scholar_migration_constant_income_is_2015_dollars_without_exchange_rate_swings(data_dir):
    """The "Const2010" column is World Bank constant dollars of 2015 (the docstring's claim): equal to
    current dollars (WDI) in 2015, and Russia's rouble crash of 2014-15 absent from it."""
    const = L.load_scholar_migration(data_dir).frame.set_index(["country", "year"]).gdp_pc_constant
    current = L.load_wdi(data_dir).frame.set_index(["country", "year"]).gdp_pc_usd
    both = pd.concat([const.xs(2015, level="year"), current.xs(2015, level="year")], axis=1).dropna()
    assert len(both) > 150 and np.allclose(both.iloc[:, 0], both.iloc[:, 1], rtol=1e-3)
    assert current[("RUS", 2016)] / current[("RUS", 2013)] < 0.6
    assert abs(const[("RUS", 2016)] / const[("RUS", 2013)] - 1) < 0.05


# --- OpenAlex co-authorship -----------------------------------------------------------------

def test_openalex_iso3_keeps_namibia_and_kosovo(data_dir, openalex, iso3):
    frame = openalex.frame
    codes = set(frame["a"]) | set(frame["b"])
    assert codes <= iso3 and {"NAM", "KSV"} <= codes
    assert (frame["a"] <= frame["b"]).all() and openalex.excluded.empty
    assert len(frame) == len(raw_rows(data_dir / L.OPENALEX_FILE))


def test_openalex_unknown_iso2_excluded_and_listed(tmp_path, data_dir):
    text = "year,country_a,country_b,works\n2000,FR,FR,10\n2000,FR,ZZ,3\n2000,DE,FR,2\n"
    result = L.load_openalex_coauthorship(
        tmp_data_dir(tmp_path, data_dir, **{L.OPENALEX_FILE: text}))
    assert result.frame[["a", "b"]].values.tolist() == [["DEU", "FRA"], ["FRA", "FRA"]]
    assert result.excluded.to_dict("records") == [
        {"name": "ZZ", "reason": "ISO2 code not in the ISO 3166 list", "rows": 1}]


def test_intl_share_arithmetic():
    frame = pd.DataFrame({"year": [2000] * 5, "a": ["AAA", "AAA", "AAA", "BBB", "BBB"],
                          "b": ["AAA", "BBB", "CCC", "BBB", "CCC"], "works": [10, 2, 3, 4, 1]})
    out = L.intl_coauthorship_share(frame).set_index("country")
    assert out.loc[["AAA", "BBB"], "total_works"].tolist() == [10, 4]
    assert np.isnan(out.at["CCC", "total_works"])
    assert out["intl_pair_works"].to_dict() == {"AAA": 5, "BBB": 3, "CCC": 4}
    assert out.at["AAA", "share_upper_bound"] == 0.5 and out.at["BBB", "share_upper_bound"] == 0.75
    assert np.isnan(out.at["CCC", "share_upper_bound"])  # no diagonal: no share


def world_ratio(openalex: L.LoadResult, year: int) -> float:
    share = L.intl_coauthorship_share(openalex.frame)
    world = share[share["year"] == year]
    return world["intl_pair_works"].sum() / world["total_works"].sum()


def test_intl_share_upper_bound_on_real_data(openalex):
    share = L.intl_coauthorship_share(openalex.frame)
    assert len(share) == 5599 and share["share_upper_bound"].notna().all()
    # In this file the diagonal counts only internationally co-authored works, so the
    # "upper bound" is >= 1 everywhere (mean number of partner countries), not a share.
    assert (share["share_upper_bound"] >= 1).all()
    assert 1.9 < world_ratio(openalex, 2020) < 2.2

