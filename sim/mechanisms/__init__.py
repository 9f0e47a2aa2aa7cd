"""One module per mechanism of the yearly cycle (see base.py for what a mechanism declares, and
docs/ODD.md section 7 for each rule): its parameters, its tables, its pure @njit kernels, the
scalar rules they apply to one agent (shared with the Mesa reference), and its outcomes."""
