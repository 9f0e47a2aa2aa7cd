"""One module per mechanism of the yearly cycle: a pure @njit kernel on arrays, the scalar rule it
applies to one agent (shared with the Mesa reference), and the small function the model calls."""


def rule_from(cls, params):
    """A rule (a NamedTuple of numbers the kernels read) from the config dataclass of the same fields."""
    return cls(*(getattr(params, name) for name in cls._fields))
