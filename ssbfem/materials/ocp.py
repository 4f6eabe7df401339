"""Open-circuit potentials U(x) of positive electrodes versus Li/Li+, x the stoichiometry.

Each function takes the stoichiometry and a math namespace (``ufl`` inside weak forms,
``numpy`` for post-processing), so one definition serves both.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np
import ufl


def _maximum(m: ModuleType):
    return ufl.max_value if m is ufl else np.maximum


def licoo2_dualfoil1998(x, m: ModuleType = ufl):
    """LiCoO2 OCP of Dualfoil (Doyle, Fuller, Newman 1998), as tabulated in materials.md.

    With s = 1.062 x. Check values: U(0.51) = 4.1772 V, U(0.70) = 3.9391 V, U(0.90) = 3.9062 V.
    """
    s = 1.062 * x
    return (
        2.16216
        + 0.07645 * m.tanh(30.834 - 54.4806 * s)
        + 2.1581 * m.tanh(52.294 - 50.294 * s)
        - 0.14169 * m.tanh(11.0923 - 19.8543 * s)
        + 0.2051 * m.tanh(1.4684 - 5.4888 * s)
        + 0.2531 * m.tanh((-s + 0.56478) / 0.1316)
        - 0.02167 * m.tanh((s - 0.525) / 0.006)
    )


#: Raijmakers et al. 2020, Electrochim. Acta 330, 135147: thin-film LiCoO2 EMF (x, V),
#: digitised from a figure.
RAIJMAKERS2020_EMF = (
    (0.51, 4.19),
    (0.60, 4.058),
    (0.70, 3.960),
    (0.80, 3.910),
    (0.85, 3.903),
    (0.90, 3.893),
    (0.95, 3.865),
    (0.99, 3.704),
    (0.998, 3.35),
    (1.000, 3.0),
)


def piecewise_linear(table, x, m: ModuleType = ufl):
    """Linear interpolation in a table of (x, U), extrapolated linearly beyond its ends.

    Written as a sum of ramps, U = U0 + s0 (x - x0) + sum_i (s_i - s_{i-1}) max(x - x_i, 0),
    which UFL differentiates without conditionals.
    """
    xs = [p[0] for p in table]
    us = [p[1] for p in table]
    slopes = [(us[i + 1] - us[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1)]
    maximum = _maximum(m)
    u = us[0] + slopes[0] * (x - xs[0])
    for i in range(1, len(slopes)):
        u = u + (slopes[i] - slopes[i - 1]) * maximum(x - xs[i], 0.0)
    return u


def licoo2_raijmakers2020(x, m: ModuleType = ufl):
    """Thin-film LiCoO2 EMF of Raijmakers et al. 2020, interpolated linearly."""
    return piecewise_linear(RAIJMAKERS2020_EMF, x, m)


def nmc811_chen2020(x, m: ModuleType = ufl):
    """NMC811 OCP fit of Chen et al., J. Electrochem. Soc. 167 (2020) 080534, eq. 8."""
    return (
        -0.8090 * x
        + 4.4875
        - 0.0428 * m.tanh(18.5138 * (x - 0.5542))
        - 17.7326 * m.tanh(15.7890 * (x - 0.3117))
        + 17.5842 * m.tanh(15.9308 * (x - 0.3120))
    )


def lithium_metal(x, m: ModuleType = ufl):
    """Li metal: U = 0 versus Li/Li+ at any state (for symmetric Li | SE | Li cells)."""
    return 0.0 * x


#: OCP laws by config name. Register a new one by adding a function f(x, m) written with the
#: math namespace m (ufl or numpy).
OCP_FUNCTIONS: dict[str, Callable] = {
    "Li": lithium_metal,
    "Dualfoil1998": licoo2_dualfoil1998,
    "Raijmakers2020": licoo2_raijmakers2020,
    "Chen2020": nmc811_chen2020,
}


def licoo2_entropic_ai2020(x, m: ModuleType = ufl):
    """LiCoO2 entropic coefficient dU/dT (V/K) of Ai et al., J. Electrochem. Soc. 167 (2020)
    013512, a degree-7 polynomial fit valid for 0.43 < x < 0.9936."""
    p = (-3.20392657, 14.5719049, -27.9047599, 29.1744564, -17.992018, 6.54799331, -1.30382445, 0.109667298)
    result = p[0]
    for coefficient in p[1:]:
        result = result * x + coefficient
    return result


def no_entropy(x, m: ModuleType = ufl):
    """dU/dT = 0 (no reversible heat)."""
    return 0.0 * x


#: Entropic coefficients dU/dT (V/K) by config name.
ENTROPIC_COEFFICIENTS: dict[str, Callable] = {"Ai2020": licoo2_entropic_ai2020, "none": no_entropy}
