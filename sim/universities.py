"""The universities and their agreements as structures of arrays: what the mechanisms change.

One entry per university (U) or agreement (E), index = the university's (agreement's) index in
the World. The Mesa `University` agents (sim/agents.py) are views of one row each. Checkpoints
save `state()` and rebuild with `from_state()`; the arrays marked "this year" are set by a
mechanism before any other reads them, so they need no saving.
"""

from dataclasses import dataclass, fields

import numpy as np

from sim.world.world import World


@dataclass
class Universities:
    capacity: np.ndarray     # (U,) seats, in agents (int64); grows with the capacity_growth lever (expansion)
    quality: np.ndarray      # (U, F) quality by field as students see it, 0..1 (quality)
    teaching: np.ndarray     # (U,) teaching quality, 0..1 (quality)
    courses: np.ndarray      # (U,) share of programmes taught as international courses (quality)
    reputation: np.ndarray   # (U,) research reputation, world mean 1 (quality)
    growth: np.ndarray       # (U,) this year's capacity growth rate (expansion)
    posts: np.ndarray        # (U,) funded research posts, in researcher agents (research careers hire into them)
    posts_per_usd: np.ndarray  # (U,) research posts a dollar of budget funds (set when recording starts: finance)
    public_per_seat: np.ndarray  # (U,) public funding a seat (USD a year; set when recording starts: finance)
    budget_per_seat_ref: np.ndarray  # (U,) budget a seat when recording started (USD a year: finance)
    recruitment: np.ndarray  # (U,) effort to recruit fee-paying international students, 0..1 (finance; the
                             # choice of the next intake sees it)
    # this year's money, set by finance (USD a year)
    budget: np.ndarray       # (U,) income: public funding + international tuition
    tuition: np.ndarray      # (U,) international tuition revenue
    # this year's students, set by the study year (learning)
    enrolled: np.ndarray     # (U,) students enrolled
    fee_paying: np.ndarray   # (U,) international students who pay international tuition (finance.py)
    continuing: np.ndarray   # (U,) students who go on next year
    doctoral_students: np.ndarray    # (U,) doctoral students enrolled
    doctoral_continuing: np.ndarray  # (U,) of whom go on next year
    # this year's research, set by the research mechanism
    researchers: np.ndarray  # (U,) researchers appointed (agents)
    papers: np.ndarray       # (U,) papers led
    intl_papers: np.ndarray  # (U,) of which internationally co-authored
    citations: np.ndarray    # (U,) citations of those papers, fixed point (research.CITES_FIXED_POINT)
    intl_citations: np.ndarray  # (U,) of the international papers, fixed point

    SAVED = ("capacity", "quality", "teaching", "courses", "reputation", "growth", "posts", "posts_per_usd",
             "public_per_seat", "budget_per_seat_ref", "recruitment")

    @classmethod
    def from_world(cls, w: World) -> "Universities":
        u = w.n_universities
        zeros = np.zeros(u, np.int64)
        return cls(capacity=w.univ_capacity.copy(), quality=w.univ_quality.copy(), teaching=w.univ_teaching.copy(),
                   courses=w.univ_intl_courses.copy(), reputation=np.ones(u), growth=np.zeros(u),
                   posts=w.researchers.astype(np.int64), posts_per_usd=np.zeros(u), public_per_seat=np.zeros(u),
                   budget_per_seat_ref=np.zeros(u), recruitment=np.zeros(u),
                   budget=np.zeros(u),
                   tuition=np.zeros(u), enrolled=zeros.copy(), fee_paying=zeros.copy(),
                   continuing=zeros.copy(), doctoral_students=zeros.copy(),
                   doctoral_continuing=zeros.copy(), researchers=zeros.copy(), papers=zeros.copy(), intl_papers=zeros.copy(), citations=zeros.copy(),
                   intl_citations=zeros.copy())

    def __len__(self) -> int:
        return len(self.capacity)

    def state(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in self.SAVED}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> "Universities":
        u = len(state["capacity"])
        this_year = {f.name: np.zeros(u, np.float64 if f.name in ("budget", "tuition") else np.int64)
                     for f in fields(cls) if f.name not in cls.SAVED}
        return cls(**{k: state[k] for k in cls.SAVED}, **this_year)


@dataclass
class Agreements:
    """Bilateral partnership agreements between universities (edges u -> v, both directions listed,
    grouped by u): exchange students travel along them, researchers visit, move and find
    co-authors along them, teaching methods spread along them."""
    source: np.ndarray       # (E,) university of the agreement (World.edge_from, non-decreasing)
    partner: np.ndarray      # (E,) partner university abroad (World.edge_to)
    slots: np.ndarray        # (E,) base exchange slots a year, in agents
    regional: np.ndarray     # (E,) an agreement of a regional programme (open only when both countries join)
    offsets: np.ndarray      # (U + 1,) university u's agreements are offsets[u] .. offsets[u + 1] - 1
    traffic: np.ndarray      # (E,) this year's exchange students sent along each agreement (set by exchange)

    @classmethod
    def from_world(cls, w: World) -> "Agreements":
        if np.any(np.diff(w.edge_from) < 0):
            raise ValueError("World: agreements must be grouped by university, in university order")
        offsets = np.concatenate([[0], np.cumsum(np.bincount(w.edge_from, minlength=w.n_universities))])
        return cls(source=w.edge_from, partner=w.edge_to, slots=w.edge_slots, regional=w.edge_regional,
                   offsets=offsets, traffic=np.zeros(len(w.edge_from), np.int64))

    def __len__(self) -> int:
        return len(self.source)

    def open_this_year(self, univ_country: np.ndarray, policy: dict[str, np.ndarray]) -> np.ndarray:
        """(E,) whether each agreement is open under this year's levers: a regional agreement once both
        countries join the regional programme; none across a closed border."""
        c_from, c_to = univ_country[self.source], univ_country[self.partner]
        regional_open = (policy["regional_programme"][c_from] > 0.5) & (policy["regional_programme"][c_to] > 0.5)
        closed = (policy["border_closed"][c_from] > 0.5) | (policy["border_closed"][c_to] > 0.5)
        return np.where(self.regional, regional_open, True) & ~closed

    def degree(self) -> np.ndarray:
        """(U,) agreements of each university."""
        return np.diff(self.offsets)

    def partners_of(self, u: int) -> np.ndarray:
        return self.partner[self.offsets[u]:self.offsets[u + 1]]
