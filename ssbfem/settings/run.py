"""The sections beside ``[cell]``: thermal and mechanical models, mesh, experiment, solver, output."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from ssbfem.errors import InputError
from ssbfem.settings.types import (
    CellTemperature,
    Fraction,
    NonNegative,
    NonNegativeInt,
    Positive,
    PositiveInt,
    ProcessTemperature,
    Section,
)


class Convection(Section):
    """Heat leaves by convection: q = h (T - T_ambient), W/m2."""

    type: Literal["convection"]
    h_W_m2K: NonNegative = Field(description="heat transfer coefficient, W/(m2 K)")
    ambient_K: CellTemperature | None = Field(None, description="ambient temperature (default thermal.ambient_K)")


class Radiation(Section):
    """Heat leaves by radiation: q = emissivity sigma_SB (T^4 - T_ambient^4), W/m2."""

    type: Literal["radiation"]
    emissivity: Fraction = Field(description="emissivity")
    ambient_K: CellTemperature | None = Field(None, description="ambient temperature (default thermal.ambient_K)")


class Flux(Section):
    """A given heat flux into the cell, W/m2."""

    type: Literal["flux"]
    flux_W_m2: float = Field(description="heat flux into the cell, W/m2")


class Fixed(Section):
    """A fixed temperature (full thermal model only); the heat it removes is accounted."""

    type: Literal["fixed"]
    temperature_K: CellTemperature = Field(description="the boundary's temperature, K")


class Insulated(Section):
    """No heat crosses the boundary (also every boundary not named)."""

    type: Literal["insulated"]


ThermalBoundary = Annotated[Convection | Radiation | Flux | Fixed | Insulated, Field(discriminator="type")]


class Thermal(Section):
    """The energy balance: none (isothermal), one temperature (lumped) or a temperature field (full)."""

    model: Literal["isothermal", "lumped", "full"] = Field(
        "isothermal", description="isothermal (T = cell.temperature_K), lumped (one temperature) or full (a field)"
    )
    coupling: Literal["monolithic", "lagged"] = Field(
        "monolithic",
        description="monolithic: one Newton solve for all fields; lagged: the electrochemistry uses the "
        "temperature of the previous step",
    )
    initial_temperature_K: CellTemperature | None = Field(
        None, description="initial temperature (default cell.temperature_K)"
    )
    ambient_K: CellTemperature | None = Field(
        None, description="ambient temperature of convection and radiation (default cell.temperature_K)"
    )
    boundaries: dict[str, ThermalBoundary] = Field(
        default_factory=dict,
        description="per named boundary: {type = convection (h_W_m2K), radiation (emissivity), flux (flux_W_m2, "
        "inwards), fixed (temperature_K) or insulated; ambient_K}",
    )


class Pressure(Section):
    """A uniform pressure on a boundary, Pa (e.g. the stack pressure)."""

    pressure_Pa: float = Field(description="pressure, Pa (compressive positive)")


class Mechanics(Section):
    """Linear elasticity with thermal and chemical eigenstrains, solved at field snapshots."""

    enabled: bool = Field(
        False, description="compute stresses at every field snapshot (mechanics.csv, displacement field)"
    )
    stress_free_temperature_K: ProcessTemperature | None = Field(
        None, description="temperature without thermal stress, e.g. of sintering (default cell.temperature_K)"
    )
    substrate_thermal_expansion_1_K: NonNegative | None = Field(
        None,
        description="1D: the stack's in-plane strain follows a substrate of this expansion coefficient, "
        "alpha_s (T - T_sf) (default: a rigid substrate that does not expand, in-plane strain 0)",
    )
    degree: Literal[1, 2] = Field(1, description="polynomial degree of the displacement")
    flaw_size_um: Positive = Field(1.0, description="critical flaw size a_c of the fracture indicator, micrometres")
    flaw_geometry_factor: Positive = Field(
        1.12, description="geometry factor Y of the fracture indicator (1.12: surface crack)"
    )
    boundaries: dict[str, Literal["clamped", "roller_x", "roller_y", "roller_z"] | Pressure] = Field(
        default_factory=dict,
        description="per named boundary: clamped, roller_x, roller_y, roller_z or {pressure_Pa = p} (a uniform "
        "pressure, e.g. the stack pressure; default: the negative terminal clamped)",
    )
    kinetics_feedback: bool = Field(
        False,
        description="stress acts back on the Li interface: its equilibrium potential shifts by Omega_Li sigma_n / F "
        "(Monroe and Newman), lagged; the mechanics is then solved after every accepted step",
    )

    @field_validator("boundaries", mode="before")
    @classmethod
    def _boundary_kinds(cls, value: Any) -> Any:
        kinds = ("clamped", "roller_x", "roller_y", "roller_z")
        for name, kind in value.items() if isinstance(value, dict) else ():
            pressed = isinstance(kind, dict) and set(kind) == {"pressure_Pa"}
            if kind not in kinds and not pressed:
                allowed = f"{', '.join(kinds)} or {{pressure_Pa}}"
                raise InputError(f"mechanics.boundaries.{name}", f"must be one of {allowed}, got {kind!r}")
        return value


class Mesh(Section):
    """The mesh: a file, or the builder's element counts."""

    file: str | None = Field(
        None,
        description="a .msh file with the named physical groups, used instead of the builder (a relative path: "
        "to the config file's folder; given with --set: to the working directory)",
    )
    positive_elements: PositiveInt = Field(48, description="elements through the positive electrode")
    electrolyte_elements: PositiveInt = Field(4, description="elements through the electrolyte")
    negative_elements: PositiveInt = Field(2, description="elements through the negative electrode")
    current_collector_elements: PositiveInt = Field(2, description="elements through each current collector")
    grading: Positive = Field(20.0, description="largest/smallest element size in a layer, smallest at the electrolyte")
    # 200: elements of 4 nm at the surface resolve the lithium profile a few ms into a step at 4C
    # with D = 1e-15 m2/s; with 20 the first 0.1 s was 4 mV off (tests/test_integrator.py).
    positive_grading: Positive = Field(
        200.0, description="largest/smallest element size in the positive electrode, smallest at the electrolyte"
    )
    width_um: Positive = Field(10.0, description="in-plane edge length of the 2D/3D mesh, micrometres")
    in_plane_elements: PositiveInt = Field(1, description="elements along each in-plane edge")
    degree: Literal[1, 2] = Field(2, description="polynomial degree of the fields")


class Experiment(Section):
    """The experiment, in the step language of docs/experiments.md."""

    steps: list[Any] = Field(min_length=1, description="experiment steps, e.g. 'Discharge at 1C until 3.0 V'")


class Solver(Section):
    """Time stepping and the nonlinear and linear solvers. The tolerances bound the estimated
    local error of every time step (variable-order BDF, Milne's device; ssbfem.integrator). At the
    defaults a 1C discharge is within 0.42 mV of a reference with 100 times tighter tolerances on
    the thin film and within 0.13-0.15 mV on 3D composite cathodes of 55k-58k unknowns, whose
    capacities agree to 1e-6 (benchmarks/RESULTS.md, "The stoichiometry's tolerance"); a
    stoichiometry tolerance ten times tighter takes 1.5-1.7 times the steps in 3D."""

    voltage_tolerance_V: Positive = Field(1.0e-4, description="local error tolerance of a time step on the voltage, V")
    stoichiometry_tolerance: Positive = Field(
        5.0e-4,
        description="local error tolerance of a time step on the stoichiometry (the largest error over the "
        "nodes, at a particle's surface; the voltage has its own)",
    )
    temperature_tolerance_K: Positive = Field(
        1.0e-2, description="local error tolerance of a time step on the temperature, K"
    )
    error_norm: Literal["max", "rms"] = Field(
        "max",
        description="a field's local error against its tolerance: its largest value over the dofs (max) or its "
        "root mean square (rms, as IDA and PETSc's TS); the voltage's is always its own. At the same voltage "
        "error both take about as many steps (benchmarks/RESULTS.md)",
    )
    event_tolerance_V: Positive = Field(1.0e-4, description="how close a voltage cut-off is hit, V")
    newton_fraction: NonNegative | None = Field(
        None,
        description="a time step's Newton iterations stop once their estimated error is below this fraction of "
        "the local error tolerances, or when the residual is below its tolerance (0: only then); default 0.33 "
        "(IDA's) with the iterative linear solver (an iteration costs a Jacobian, a preconditioner and Krylov "
        "iterations), 0 with a factorisation (an iteration costs a residual and a back-substitution; "
        "conservation laws then hold to round-off)",
    )
    jacobian_lag_steps: NonNegativeInt = Field(
        20,
        description="with the iterative linear solver, for how many time steps Newton may start from the Jacobian "
        "and preconditioner of an earlier step (its kinetics linearised then, its mass terms the present step's); "
        "a slow solve assembles afresh. 0: a Jacobian at every Newton iteration",
    )
    initial_step_s: Positive = Field(1.0e-3, description="first time step after every change of step, s")
    max_step_s: Positive = Field(600.0, description="largest time step, s")
    max_order: int = Field(
        4,
        ge=1,
        le=5,
        description="highest order of the variable-order BDF time stepper (1 to 5; 2: variable-step BDF2 "
        "throughout); 4 takes 40 % fewer steps than 2 on a 1C discharge, with a smaller error "
        "(benchmarks/RESULTS.md)",
    )
    linear_solver: Literal["auto", "direct", "iterative"] = Field(
        "auto",
        description="direct (MUMPS LU), iterative (GMRES, field split with GAMG) or auto (iterative above 20k "
        "unknowns)",
    )
    petsc_options: dict[str, Any] = Field(
        default_factory=dict, description="PETSc options passed to the nonlinear solver"
    )


class Output(Section):
    """What a run writes."""

    field_times_s: list[float] = Field(
        default_factory=list, description="times at which fields are written, s (also the start and end of every step)"
    )
    fields: bool = Field(True, description="write VTX fields")
    plot: bool = Field(True, description="write the plots (voltage, losses, concentration, cycles)")
    renderings: bool = Field(
        True,
        description="2D/3D cells: PNG renderings of the fields (interface current density and stoichiometry, "
        "temperature, von Mises stress) at the first and last field snapshot, in fields/",
    )
    effective_parameters: bool = Field(
        False,
        description="composite cells: measure the composite layer's effective parameters (as `ssbfem effective`: "
        "tortuosity factors by six conduction solves, specific area, percolation) and record them in geometry.json "
        "(32 s of a 1.09M-unknown cell's set-up on 2 ranks)",
    )
    checkpoint_every_steps: NonNegativeInt = Field(
        200, description="write a checkpoint every this many accepted steps (0: never)"
    )
    checkpoint_every_s: NonNegative = Field(
        300.0, description="write a checkpoint every this many seconds of wall time (0: never)"
    )
