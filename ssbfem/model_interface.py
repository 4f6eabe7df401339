"""The model interface: all that the simulation, the time integrator, the solvers, EIS, the
observers and the checkpoints use of a model.

:class:`ssbfem.model.CellModel` (the resolved cell) implements it; a second model (a homogenised
electrode, for instance) implements the same attributes and methods and runs through the same
simulation, outputs and checkpoints unchanged. Units: potentials V, current densities A/m2 of
footprint (positive on discharge), charges C/m2, temperatures K, heat W/m2.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import ufl

from ssbfem._dolfinx import dolfinx
from ssbfem.fem import Fields, Residual
from ssbfem.geometry.io import CellMesh
from ssbfem.settings.cell import Cell

fem = dolfinx.fem


@runtime_checkable
class Model(Protocol):
    """A model of a cell: named fields, a residual, controls, and its terminal quantities."""

    cellmesh: CellMesh
    cell: Cell  # the [cell] settings
    fields: Fields
    residual: Residual
    q: dict  # quantities the model publishes by name (UFL)

    # -- time discretisation and controls: Constants the integrator and the experiment set
    inv_dt: fem.Constant
    bdf: tuple[fem.Constant]  # (a0,): d(u)/dt = inv_dt (a0 u + u_hist)
    mode: tuple[fem.Constant, fem.Constant, fem.Constant]
    setpoint: tuple[fem.Constant, fem.Constant, fem.Constant]
    temperature: ufl.core.expr.Expr  # K: a Constant (isothermal, ramps) or T0 + temperature_rise
    temperature_rise: fem.Function | None
    T_lagged: fem.Function | None  # lagged coupling: the temperature the electrochemistry sees
    T0: float  # the initial temperature, K
    terminal_area: float  # the footprint in mesh units (1 in 1D)
    cell_area_m2: float  # the cell's footprint (cell.area_cm2): per-m2 outputs times it are the whole cell's
    stack_thickness_m: float  # the simulated volume over its footprint
    capacitive: bool  # the potentials are dynamic (double layers)
    theta: fem.Function  # the insertion electrode's stoichiometry (kept in (0, 1) by the integrator)
    voltage: fem.Function  # the cell voltage, one global unknown

    # -- what the solvers take
    @property
    def unknowns(self) -> list[fem.Function]: ...
    @property
    def residuals(self) -> list[ufl.Form]: ...
    @property
    def entity_maps(self) -> list: ...
    @property
    def dynamic(self) -> list[tuple[fem.Function, fem.Function, str]]: ...
    @property
    def bcs(self) -> list: ...
    def cells_in(self, space: fem.FunctionSpace, cells: np.ndarray) -> np.ndarray: ...

    # -- state
    def set_control(self, mode: str, value: float) -> None: ...
    def set_initial_state(self) -> None: ...
    def set_equilibrium(self, stoichiometry: float) -> None: ...
    def stoichiometry_at_ocp(self, voltage: float) -> float: ...
    def stoichiometry_per_charge(self) -> float: ...

    # -- terminal quantities and outputs
    def cell_voltage(self) -> float: ...
    def current_density(self) -> float: ...
    def lithium_content(self) -> float: ...
    def mean_stoichiometry(self) -> float: ...
    def temperatures(self) -> dict[str, float]: ...
    def heat(self) -> dict[str, float]: ...
    def interface_means(self) -> dict[str, float]: ...
    def voltage_breakdown(self, means: dict[str, float] | None = None) -> dict[str, float]: ...
    def double_layer_charge(self, means: dict[str, float]) -> float: ...
