"""Published figures the real world is held against beyond student stocks (sources in docs/ODD.md,
section "Validation beyond stocks"). Values as published, rounded; where read from a figure, to the
precision it allows."""

# Share of foreign-born researchers (came from abroad; residence at 18 in another country), active
# researchers in biology, chemistry, earth and environmental sciences and materials, 2011 GlobSci survey:
# Franzoni, Scellato & Stephan (2012), Foreign-born scientists: mobility patterns for 16 countries,
# Nature Biotechnology 30, 1250-1253 (Figure 1).
FOREIGN_BORN_RESEARCHERS = {
    "CHE": 0.567, "CAN": 0.469, "AUS": 0.445, "USA": 0.384, "SWE": 0.376, "GBR": 0.329, "NLD": 0.327,
    "DEU": 0.232, "BEL": 0.239, "DNK": 0.208, "FRA": 0.172, "ESP": 0.073, "BRA": 0.070, "JPN": 0.050,
    "ITA": 0.030, "IND": 0.008,
}

# Five-year stay rates of foreign (temporary-visa) S&E doctorate recipients of US universities, 2008
# cohort, observed in 2013: Finn & Pennington (2018), Stay Rates of Foreign Doctorate Recipients from
# U.S. Universities, 2013, ORISE. All origins about 0.70; China 0.90 and India 0.88, the highest of the
# large senders; origins with narrower income gaps (e.g. South Korea, Japan, Western Europe) well below.
US_DOCTORAL_STAY = {"all": 0.70, "CHN": 0.90, "IND": 0.88}

# Retention of international students in their host country after five years (those who stay on with a
# work, family or other permit), OECD countries: roughly a fifth to two-fifths, varying by destination
# (OECD, International Migration Outlook 2022, chapter 3, "Retention and economic impact of international
# students in OECD countries"; OECD, International Migration Outlook 2011, "Determinants of international
# students' stay rates", 15-35%). A range: the measures differ by country.
INTL_GRADUATE_RETENTION = (0.20, 0.40)

# Internationally co-authored share of S&E articles, world, 2016: about one in five (National Science
# Board, Science & Engineering Indicators 2018, chapter 5: 21.7%).
WORLD_INTL_COAUTHORED = 0.217

# Elasticity of US patent applications to the number of foreign graduate students (master's and doctoral),
# US time series 1965-2001 with lags: 0.45 for patent applications in the published version, 0.33 in the
# working paper (2004); 0.50-0.68 for patent grants (non-university, university). Chellaraj, Maskus &
# Mattoo (2008), The contribution of international graduate students to US innovation, Review of
# International Economics 16(3). The range spans their measures.
US_PATENT_ELASTICITY = (0.33, 0.68)

# Elasticity of US university research output (papers) to its foreign doctoral students. Stuen, Mobarak &
# Maskus (2012, Economic Journal), 2,300 US S&E departments 1973-1998, enrolment shocks abroad as
# instruments: foreign and domestic doctoral students contribute comparably, so the elasticity is about the
# foreign share of doctoral students (about 0.3) times doctoral students' share of output (about a third,
# Larivière 2012): 0.10; the working paper (CEPR DP 7709, 2010), where foreign students contributed more,
# reports 5-6% of output per 10% of the foreign share: 0.6. A constructed range, stated in docs/ODD.md 7.19.
US_PAPER_ELASTICITY = (0.10, 0.60)
