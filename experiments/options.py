"""key=value command lines of the analysis commands (hemsim-sensitivity, hemsim-policy-study): the
command's own options, and config overrides for everything else (checked later, as for `hemsim`)."""

from sim.errors import UserError


def split(argv: list[str], defaults: dict, command: str) -> tuple[dict, dict]:
    """(options, config overrides); `hydra.run.dir` is the output folder (`out`), other hydra keys and
    arguments without `=` are one-line errors."""
    options, overrides = dict(defaults), {}
    for arg in argv:
        if "=" not in arg:
            raise UserError(f"{arg}: expected key=value (options: {', '.join(defaults)}; or a config key)")
        key, value = arg.split("=", 1)
        if key == "hydra.run.dir":
            key = "out"
        if key in options:
            options[key] = value
        elif key.startswith("hydra"):
            raise UserError(f"{key}: {command} takes no Hydra options but hydra.run.dir (its output folder)")
        else:
            overrides[key] = number(value)
    return options, overrides


def number(value: str):
    """A command-line value as an int or float where it is one (config_from quotes strings)."""
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def arguments(argv: list[str] | None, doc: str) -> list[str] | None:
    """The command line (sys.argv[1:] by default), or None after printing `doc` for -h / --help."""
    import sys
    argv = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in argv):
        print(doc)
        return None
    return argv
