"""What a student is: the columns both backends hold, and the codes and flags stored in them.

Defined once, here: the array backend (`sim/population.py`) allocates one array per column; the
Mesa reference backend (`sim/agents.py`) gives each `Student` agent one attribute per column;
each mechanism declares which of these columns its step reads and writes; the per-student
sample (`students.parquet`) names the codes with the tuples below.
"""

from typing import NamedTuple

import numpy as np


class Column(NamedTuple):
    dtype: type
    doc: str


STATE = {  # kept from year to year (docs/ODD.md, state variables)
    "uid": Column(np.uint64, "identity: entry year, origin, rank in cohort (the key of its dice)"),
    "origin": Column(np.uint16, "country of origin (index)"),
    "univ": Column(np.int32, "university of study (index; -1 while an entrant has no seat)"),
    "talent": Column(np.float32, "talent, standard normal"),
    "field": Column(np.uint8, "field of study"),
    "resources": Column(np.uint8, "family-resources band 0..2"),
    "level": Column(np.uint8, "level: see LEVELS"),
    "year_in": Column(np.uint8, "study years completed at this level"),
    "skill": Column(np.float32, "accumulated skill"),
    "competence": Column(np.float32, "intercultural competence"),
    "mobility": Column(np.uint8, "bits of the mobility record: see EXCHANGED, INTERNED"),
    "outcome": Column(np.uint8, "this year's outcome: see OUTCOMES"),
}
EVENTS = {  # this year's events, reset when a year starts
    "partner": Column(np.int32, "exchange partner university, or -1"),
    "stay": Column(np.float32, "length of the exchange stay (years)"),
    "host": Column(np.int16, "internship host country, or -1 (interning abroad this year iff >= 0)"),
}
COLUMNS = {name: c.dtype for name, c in STATE.items()}      # name -> dtype
TRANSIENT = {name: c.dtype for name, c in EVENTS.items()}
ALL = COLUMNS | TRANSIENT
RESET = {"partner": -1, "stay": 0.0, "host": -1}            # events' values at the start of a year

# level: codes 0, 1, 2 (entrants start at 0 or 1; master's graduates may go on to 2)
FIRST_DEGREE, POSTGRADUATE, DOCTORAL = 0, 1, 2
LEVELS = ("first_degree", "postgraduate", "doctoral")

# outcome: this year's outcome, codes 0..5 (set by learning, then careers for graduates abroad and
# emigration for graduates at home who take a job abroad)
CONTINUING, DROPPED, GRADUATED, RETURNED, STAYED, EMIGRATED = 0, 1, 2, 3, 4, 5
OUTCOMES = ("continuing", "dropped", "graduated", "returned", "stayed", "emigrated")

# mobility: bits of the record (set by exchange and internships; never cleared)
EXCHANGED, INTERNED = 1, 2


assert set(RESET) == set(EVENTS)


def bytes_per_student() -> int:
    return sum(np.dtype(d).itemsize for d in ALL.values())
