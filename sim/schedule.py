"""The yearly cycle: the mechanisms of one academic year, in the order they happen.

Each is one module of sim/mechanisms/ (base.py says what a mechanism declares). The model runs them in
this order (sim/model.py); the config's behaviour sections, the rules and the outcomes are those of
the mechanisms listed here, so adding a mechanism is its module and one line below
(docs/adding-a-mechanism.md).
"""

from sim.mechanisms import assimilation, careers, choice, emigration, enrolment, exchange, expansion, \
    expected_stocks, finance, graduation, innovation, internships, learning, progression, quality, research, \
    research_careers, service, workforce

SCHEDULE = (
    expansion.Expansion,        # seats grow
    enrolment.Enrolment,        # a new cohort in every country
    choice.DegreeChoice,        # applications, admission under capacity, clearing
    assimilation.Assimilation,  # a run from the data: the observed students in place, the year before the start
    exchange.Exchange,          # exchange studies along agreements
    internships.Internships,    # final-year internships abroad
    learning.Learning,          # the study year: learning, dropout, graduation
    expected_stocks.ExpectedStocks,  # the corridor stock without the agents' dice (an outcome only)
    finance.Finance,            # universities' income, scholarships, the research posts budgets fund
    progression.Progression,    # graduates go on to a master's or a doctorate
    careers.Careers,            # graduates abroad stay or return; employability
    emigration.Emigration,      # home graduates take jobs abroad
    workforce.Workforce,        # graduates join the workforce where they settle
    research.Research,          # researchers' mobility, teams, papers, citations
    innovation.Innovation,      # patent applications
    service.Service,            # service projects
    quality.Quality,            # reputation, teaching quality, the quality students see, courses
    research_careers.ResearchCareers,  # researchers leave or retire; doctoral graduates are hired into posts
    graduation.Graduation,      # graduates and dropouts leave the student population
)
