"""Country names for reports: ISO3 codes (the real world) read with their names (pycountry's ISO 3166
list, the short common name where it has one: "South Korea", not "Korea, Republic of"). Codes that
are not ISO 3166 (the synthetic world's C01.., Kosovo's user-assigned KSV, WORLD) keep the code."""

from functools import cache

import pandas as pd

EXTRA = {"KSV": "Kosovo", "RUS": "Russia"}   # not in ISO 3166 / an official name nobody uses in a table


@cache
def name(code: str) -> str:
    """The country's name, or the code itself when it is not an ISO3 country code."""
    import pycountry
    if code in EXTRA:
        return EXTRA[code]
    country = pycountry.countries.get(alpha_3=code) if isinstance(code, str) and len(code) == 3 else None
    return (getattr(country, "common_name", None) or country.name) if country else code


def with_names(frame: pd.DataFrame, columns=("country",)) -> pd.DataFrame:
    """A copy with a `<column>_name` beside each code column (or beside the index when it holds codes)."""
    out = frame.copy()
    for column in columns:
        if column in out.columns:
            out.insert(out.columns.get_loc(column) + 1, f"{column}_name", out[column].map(name))
        elif out.index.name == column:
            out.insert(0, f"{column}_name", out.index.map(name))
    return out


def legend(codes) -> pd.DataFrame:
    """code, name for the codes that have a name other than themselves (for the figures' tick labels)."""
    rows = [{"code": c, "name": name(c)} for c in sorted(set(codes)) if name(c) != c]
    return pd.DataFrame(rows, columns=["code", "name"])
