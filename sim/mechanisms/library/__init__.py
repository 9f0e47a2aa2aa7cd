"""What the mechanisms share: the layer below them.

A mechanism module (sim/mechanisms/<name>.py) imports from here and from sim/ below the mechanisms,
never another mechanism module, and never looks another mechanism up: what one mechanism hands the
next goes through the declared shared state (sim/state.py). tests/test_architecture.py checks both.

    common.py        small formulas more than one mechanism applies (talent bands, fees, doctoral length,
                     the years a student stays enrolled, a Poisson deviate)
    admission.py     selection under capacity: universities, agreements and hosts admit by score
    destinations.py  the nested-logit destination choice that degree choice and progression both use
"""
