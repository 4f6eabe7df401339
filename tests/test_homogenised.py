"""The homogenised (P2D) model: its single-particle limit against the analytic solution of
spherical diffusion, its initial voltage drop against a hand calculation, the convergence of its
macro and radial discretisations, charge conservation, the CLI and its input checks."""

from __future__ import annotations

import csv
import itertools
import os
import signal

import numpy as np
import pytest
from scipy.optimize import brentq

from conftest import REPO, merge, simulate, thin_film
from test_thermal import LICOO2_THERMAL, assert_heat_balance
from ssbfem.cli import main
from ssbfem.config import load_config, resolve
from ssbfem.constants import FARADAY, GAS_CONSTANT
from ssbfem.errors import InputError, SimulationError
from ssbfem.materials.ocp import OCP_FUNCTIONS
from ssbfem.observers import Observer
from ssbfem.results import read_table
from ssbfem.runner import restart_run, run
from ssbfem.settings import load_settings, read_toml, validate
from ssbfem.simulation import lithium_charge_balance

RT_F = GAS_CONSTANT * 298.15 / FARADAY
ACTIVE, RADIUS_UM = 0.6, 2.0


def homogenised(**sections) -> dict:
    """The reference thin-film stack read as a homogenised composite (60 % LiCoO2 particles of
    2 um radius), meshed with a few elements, constant exchange current; `sections` override."""
    raw = thin_film(
        model="homogenised",
        homogenised={"volume_fraction_active": ACTIVE, "particle_radius_um": RADIUS_UM},
        mesh={"electrolyte_elements": 2, "positive_elements": 4},
        cell={"positive": {"exchange_current_law": "constant"}},
    )
    merge(raw, sections)
    return raw


def _tan_roots(n: int) -> np.ndarray:
    """The first n positive roots of tan(a) = a."""
    return np.array(
        [brentq(lambda a: np.tan(a) - a, k * np.pi + 1e-9, (k + 0.5) * np.pi - 1e-9) for k in range(1, n + 1)]
    )


ROOTS = _tan_roots(400)


def surface_rise(tau: np.ndarray) -> np.ndarray:
    """(c(R, t) - c0) / (F0 R / D) in a sphere of radius R taking up a constant flux F0 from a
    uniform c0, tau = D t / R^2 (Carslaw & Jaeger 1959, section 9.3; Crank 1975, eq. 6.40):
    3 tau + 1/5 - 2 sum exp(-a_n^2 tau) / a_n^2, a_n the roots of tan(a) = a."""
    tau = np.asarray(tau, dtype=float)[:, None]
    return 3.0 * tau[:, 0] + 0.2 - 2.0 * np.sum(np.exp(-(ROOTS**2) * tau) / ROOTS**2, axis=1)


@pytest.fixture(scope="module")
def single_particle_run():
    """Conductivities high (sigma_SE = 10 S/m, sigma_AM = 1e4 S/m): every particle sees the same
    flux; 32 radial elements."""
    cfg = homogenised(
        homogenised={"radial_elements": 32},
        cell={"electrolyte": {"conductivity_S_m": 10.0}},
        experiment={"steps": ["Discharge at 2.08333 A/m2 for 1200 s"]},
        solver={"voltage_tolerance_V": 1e-6},
    )
    return cfg, simulate(cfg)


def test_single_particle_limit(single_particle_run):
    """V = U(x_s) + eta_pos - eta_Li - I L_sep / sigma_SE, x_s from the series solution with
    F0 = I / (F a_s L), eta from inverting Butler-Volmer (alpha = 1/2): within 40 uV after 30 s
    (measured 20 uV at 68 s; the first instants' sqrt(t) layer is thinner than a radial element),
    5 uV at the end (measured 1.6 uV)."""
    cfg, result = single_particle_run
    s, cell = result.series, cfg["cell"]
    pos, current = cell["positive"], 2.08333
    t, voltage = s.column("time_s"), s.column("voltage_V")
    radius, thickness = RADIUS_UM * 1e-6, pos["thickness_um"] * 1e-6
    area = 3.0 * ACTIVE / radius
    flux = current / (FARADAY * area * thickness)  # mol/(m2 s) into the particles
    D, c_max = pos["diffusivity_m2_s"], pos["max_concentration_mol_m3"]
    x_surface = pos["initial_stoichiometry"] + flux * radius / D * surface_rise(D * t / radius**2) / c_max
    eta_pos = 2 * RT_F * np.arcsinh(-current / (area * thickness) / (2 * pos["exchange_current_A_m2"]))
    eta_li = 2 * RT_F * np.arcsinh(current / (2 * cell["negative"]["exchange_current_A_m2"]))
    separator = current * cell["electrolyte"]["thickness_um"] * 1e-6 / cell["electrolyte"]["conductivity_S_m"]
    reference = OCP_FUNCTIONS[pos["ocp"]](x_surface, np) + eta_pos - eta_li - separator
    late = t >= 30.0
    error = np.abs(voltage - reference)[late]
    assert voltage[-1] < voltage[0] - 0.2  # a real discharge, not a rest
    assert error.max() < 4e-5, error.max()
    assert error[-1] < 5e-6, error[-1]


#: Verification reference, case B: a sphere under constant flux J from a uniform c0, u = (c - c0)
#: D / (J R) at the surface (rho = 1) and the centre (rho = 0) at tau = D t / R^2.
SPHERE_U = {
    0.01: (0.123643, 0.0),
    0.05: (0.312165, 0.003424),
    0.1: (0.486762, 0.059878),
    0.2: (0.798253, 0.308037),
    0.5: (1.699996, 1.200019),
    1.0: (3.2, 2.7),
}


class _ParticleRecorder(Observer):
    """The particles' surface and centre stoichiometry, averaged over the macro nodes, at each row."""

    def __init__(self):
        self.rows = []

    def on_row(self, sim, row: dict) -> None:
        theta = sim.model.fields["theta"].u
        values = theta.x.array[: theta.x.index_map.size_local * theta.x.block_size].reshape(-1, theta.x.block_size)
        self.rows.append((row["time_s"], values[:, -1].mean(), values[:, 0].mean()))


def sphere_u(taus: list[float], radial: int) -> dict[float, tuple[float, float]]:
    """u(1, tau) and u(0, tau) of the homogenised model's particles in the single-particle limit
    (conductivities high: every particle takes up J = I / (F a_s L)); each tau ends an experiment
    step, so the values are read at exactly that time. The current moves x by 0.3 at tau = 1."""
    raw = homogenised(
        homogenised={"radial_elements": radial},
        cell={"electrolyte": {"conductivity_S_m": 10.0}, "positive": {"electronic_conductivity_S_m": 1e4}},
        solver={"voltage_tolerance_V": 1e-6},
    )
    pos = raw["cell"]["positive"]
    radius, D, c_max = RADIUS_UM * 1e-6, pos["diffusivity_m2_s"], pos["max_concentration_mol_m3"]
    flux = 0.3 / 3.2 * c_max * D / radius  # mol/(m2 s)
    current = flux * FARADAY * 3 * ACTIVE / radius * pos["thickness_um"] * 1e-6
    times = [tau * radius**2 / D for tau in taus]
    steps = [f"Discharge at {current:.10g} A/m2 for {b - a:.10g} seconds" for a, b in itertools.pairwise([0, *times])]
    raw["experiment"] = {"steps": steps}
    recorder = _ParticleRecorder()
    run(resolve(raw), None, observers=[recorder])
    t, surface, centre = np.array(recorder.rows).T
    x0 = pos["initial_stoichiometry"]
    scale = c_max * D / (flux * radius)
    return {
        tau: (float((np.interp(t1, t, surface) - x0) * scale), float((np.interp(t1, t, centre) - x0) * scale))
        for tau, t1 in zip(taus, times, strict=True)
    }


def test_sphere_with_constant_flux():
    """Verification case B with 32 radial elements: u at the surface and the centre against the
    reference table, within 2e-3 (absolute, u ~ 0.1-3; measured at most 8.6e-4, at the centre,
    converging at order 1.7-1.9 in N_r: 9.7e-3, 2.9e-3, 8.6e-4 at tau = 0.2 for 8, 16, 32)."""
    computed = sphere_u(list(SPHERE_U), 32)
    for tau, (surface, centre) in SPHERE_U.items():
        assert computed[tau][0] == pytest.approx(surface, abs=2e-3), (tau, computed[tau])
        assert computed[tau][1] == pytest.approx(centre, abs=2e-3), (tau, computed[tau])


def test_charge_conserved(single_particle_run):
    """Charge passed = F x lithium inserted into the particles, to 1e-9."""
    charge, inserted = lithium_charge_balance(single_particle_run[1].series.rows)
    assert charge > 2000.0
    assert abs(charge - inserted) / abs(charge) < 1e-9


def test_breakdown_telescopes(single_particle_run):
    """The losses and OCPs of the voltage breakdown sum to the cell voltage at every row."""
    s = single_particle_run[1].series
    terms = [n for n in s.names if n.startswith("loss_")] + ["ocp_positive_V"]
    total = sum(s.column(n) for n in terms) - s.column("ocp_negative_V")
    assert np.abs(total - s.column("voltage_V")).max() < 1e-9


def test_initial_drop_uniform_reaction():
    """At 0.02 A/m2 with slow kinetics (Wagner number R_ct / R_ohm of about 100: the reaction is
    uniform) and fast particle diffusion (x_surface = x_mean, known from the charge passed), the
    drop below U(x) is, by hand:

    * separator: I L_sep / sigma_SE;
    * composite, uniform reaction a j = -I / L: the ionic current falls linearly from I to 0
      across it, the electronic one rises from 0 to I, and the a-weighted mean of phi_s - phi_e
      sits I L / 3 (1 / kappa_eff + 1 / sigma_eff) below the separator's phi_e and the collector's
      phi_s (integrate i / sigma twice), kappa_eff = eps_SE / tau sigma_SE (tau = 2 given),
      sigma_eff = eps_AM^1.5 sigma_AM (Bruggeman), a = 3 eps_AM / r (1 - 0.2 contact loss);
    * charge transfer: eta = 2 RT/F asinh(j / (2 i0)) on both electrodes.

    Within 0.5 % of the ohmic part (the residual is the reaction's non-uniformity, 0.05 %), and
    each phase's ohmic loss in the breakdown within 1 %.
    """
    current, i0, sigma = 0.02, 1.92e-3, 1.0e-3
    cfg = homogenised(
        homogenised={"tortuosity_factor_electrolyte": 2.0, "contact_loss_fraction": 0.2, "radial_elements": 4},
        cell={
            "electrolyte": {"conductivity_S_m": sigma},
            "positive": {"electronic_conductivity_S_m": sigma, "diffusivity_m2_s": 1e-10, "exchange_current_A_m2": i0},
        },
        mesh={"positive_elements": 16},
        experiment={"steps": [f"Discharge at {current} A/m2 for 0.01 s"]},
    )
    s, cell = simulate(cfg).series, cfg["cell"]
    pos = cell["positive"]
    thickness, separator = pos["thickness_um"] * 1e-6, cell["electrolyte"]["thickness_um"] * 1e-6
    area = 3.0 * ACTIVE / (RADIUS_UM * 1e-6) * 0.8
    kappa_eff, sigma_eff = sigma * (1 - ACTIVE) / 2.0, sigma * ACTIVE**1.5
    ionic = current * separator / sigma + current * thickness / (3 * kappa_eff)
    electronic = current * thickness / (3 * sigma_eff)
    eta_pos = 2 * RT_F * np.arcsinh(-current / (area * thickness) / (2 * i0))
    eta_li = 2 * RT_F * np.arcsinh(current / (2 * cell["negative"]["exchange_current_A_m2"]))
    t = s.column("time_s")[1]
    x = pos["initial_stoichiometry"] + current * t / (FARADAY * pos["max_concentration_mol_m3"] * ACTIVE * thickness)
    drop = float(OCP_FUNCTIONS[pos["ocp"]](x, np)) - s.column("voltage_V")[1]
    by_hand = ionic + electronic - eta_pos + eta_li
    assert abs(drop - by_hand) < 5e-3 * (ionic + electronic), (drop, by_hand)
    assert s.column("loss_ohmic_electrolyte_V")[1] == pytest.approx(-ionic, rel=1e-2)
    assert s.column("loss_ohmic_positive_V")[1] == pytest.approx(-electronic, rel=1e-2)


def _fixed_steps(step_s: float) -> dict:
    """Equal time steps (no local error control), so that refinements share their time error."""
    return {"initial_step_s": step_s, "max_step_s": step_s, "voltage_tolerance_V": 1.0, "stoichiometry_tolerance": 1.0}


def _observed_order(values: list[float]) -> float:
    """The order p fitted to the differences of successive halvings: |V_h - V_h/2| ~ h^p."""
    differences = np.abs(np.diff(values))
    halvings = np.arange(len(differences)) * np.log(2.0)
    return float(-np.polyfit(halvings, np.log(differences), 1)[0])


def _voltage(elements: int, radial: int, steps: list[str], step_s: float) -> float:
    cfg = homogenised(
        homogenised={"radial_elements": radial},
        cell={
            "electrolyte": {"conductivity_S_m": 1e-3},
            "positive": {"electronic_conductivity_S_m": 1e-2, "exchange_current_A_m2": 1.0},
        },
        mesh={
            "positive_elements": elements,
            "electrolyte_elements": max(elements // 4, 1),
            "degree": 1,
            "grading": 1.0,
        },
        experiment={"steps": steps},
        solver=_fixed_steps(step_s),
    )
    return float(simulate(cfg).series.column("voltage_V")[-1])


def test_macro_convergence():
    """Linear macro elements, 4 to 32 through the composite (uniform), the reaction far from
    uniform (4 A/m2, Wagner number about 1): the voltage converges at second order."""
    values = [_voltage(4 * 2**k, 4, ["Discharge at 4 A/m2 for 1 s"], 0.25) for k in range(4)]
    order = _observed_order(values)
    assert 1.8 < order < 2.2, (values, order)


def test_radial_convergence():
    """4 to 32 linear radial elements, 300 s at 2 A/m2: the voltage converges at second order."""
    values = [_voltage(4, 4 * 2**k, ["Discharge at 2 A/m2 for 300 s"], 10.0) for k in range(4)]
    order = _observed_order(values)
    assert 1.8 < order < 2.2, (values, order)


def test_cli_composite_config(tmp_path):
    """``--set model=homogenised`` runs the composite demo config in 1D through the CLI and writes
    the usual outputs, the time series with the resolved model's columns."""
    out = tmp_path / "run"
    argv = ["run", str(REPO / "demos" / "configs" / "composite_cathode.toml"), "-o", str(out)]
    argv += ["--set", "model=homogenised", "--set", "mesh.positive_elements=6", "--set", "output.fields=false"]
    assert main(argv) == 0
    for name in ("timeseries.csv", "voltage.png", "steps.csv", "geometry.json", "run.json", "config.toml"):
        assert (out / name).is_file(), name
    with open(out / "timeseries.csv") as f:
        columns = next(csv.reader(f))
    resolved = simulate(thin_film(experiment={"steps": ["Discharge at 2 A/m2 for 1 s"]})).series.names
    assert columns == resolved
    assert validate(read_toml(out / "config.toml")).model == "homogenised"  # the record reads back


BAD_INPUT = [
    ({"thermal": {"model": "lumped"}}, "cell.positive.density_kg_m3"),  # LiCoO2: none in the library
    ({"mechanics": {"enabled": True}}, "mechanics.enabled"),
    ({"homogenised": {"particle_radius_um": 2.0}}, "homogenised.volume_fraction_active"),
    ({"homogenised": {"volume_fraction_pores": 0.5}}, "homogenised.volume_fraction_pores"),
    ({"homogenised": {"radial_elements": 0}}, "homogenised.radial_elements"),
    ({"homogenised": {"tortuosity_factor_electrolyte": 2.0, "conductivity_ratio_electrolyte": 0.1}}, "homogenised"),
    ({"homogenised": {"grain_boundary_exponent_active": 1.0}}, "homogenised.grain_boundary_exponent_active"),
    ({"cell": {"negative": {"thickness_um": 5.0}}}, "cell.negative.thickness_um"),
    ({"model": "p2d"}, "model"),
]


@pytest.mark.parametrize(("change", "key"), BAD_INPUT)
def test_bad_input_names_the_key(change, key):
    raw = homogenised(**change)
    if change.get("homogenised") == {"particle_radius_um": 2.0}:
        raw["homogenised"].pop("volume_fraction_active")
    with pytest.raises(InputError) as info:
        validate(raw)
    assert info.value.key.startswith(key), info.value


def test_resolved_contact_loss_is_refused():
    """The resolved composite's detached caps are not a homogenised input: the key is named."""
    argv = ["--set", "model=homogenised", "--set", "cell.composite.contact_loss_fraction=0.5"]
    with pytest.raises(InputError) as info:
        load_settings(REPO / "demos" / "configs" / "composite_cathode.toml", argv[1::2])
    assert info.value.key == "cell.composite.contact_loss_fraction"


def test_homogenised_section_needs_the_model():
    with pytest.raises(InputError) as info:
        validate(thin_film(homogenised={"volume_fraction_active": 0.5}))
    assert info.value.key == "homogenised"


@pytest.mark.parametrize("dimension", [1, 2])
def test_impedance_against_newman_tobias(dimension):
    """EIS at rest, linearised kinetics, no double layers: at 1 MHz the particles' surface cannot
    follow, so Z is the separator, the Li interface's RT/(F i0) and the porous electrode's
    resistance of Newman & Tobias (1962) with nu = L sqrt(a (1/kappa + 1/sigma) / r_ct), here
    about 3.6 (far from uniform):
    R = L / (kappa + sigma) (1 + (2 + (kappa/sigma + sigma/kappa) cosh nu) / (nu sinh nu)).
    Within 1e-4 relative, on a 1D (P2D) and a 2D (P3D) macro mesh."""
    i0, sigma = 1.0, 1.0e-3
    cfg = homogenised(
        homogenised={"tortuosity_factor_electrolyte": 2.0, "contact_loss_fraction": 0.2, "dimension": dimension},
        cell={
            "electrolyte": {"conductivity_S_m": sigma},
            "positive": {"electronic_conductivity_S_m": sigma, "exchange_current_A_m2": i0},
        },
        mesh={"positive_elements": 16},
        experiment={"steps": ["EIS from 1 MHz to 100 kHz at rest with 2 points per decade"]},
    )
    spectrum, cell = simulate(cfg).spectra[0], cfg["cell"]
    thickness = cell["positive"]["thickness_um"] * 1e-6
    area = 3.0 * ACTIVE / (RADIUS_UM * 1e-6) * 0.8
    kappa, sig = sigma * (1 - ACTIVE) / 2.0, sigma * ACTIVE**1.5
    r_ct = RT_F / i0
    nu = thickness * np.sqrt(area * (1 / kappa + 1 / sig) / r_ct)
    electrode = thickness / (kappa + sig) * (1 + (2 + (kappa / sig + sig / kappa) * np.cosh(nu)) / (nu * np.sinh(nu)))
    separator = cell["electrolyte"]["thickness_um"] * 1e-6 / sigma
    expected = (separator + electrode + RT_F / cell["negative"]["exchange_current_A_m2"]) * 1e4  # ohm cm2
    assert nu > 3.0
    assert spectrum["frequency_Hz"][0] == pytest.approx(1e6)
    assert spectrum["z_real_ohm_cm2"][0] == pytest.approx(expected, rel=1e-4)


def test_model_interface():
    """The homogenised model is a Model: what the simulation, observers and checkpoints use."""
    from ssbfem.model_interface import Model
    from ssbfem.runner import MODELS, build_mesh

    settings = validate(homogenised())
    model, geometry = MODELS["homogenised"](settings, build_mesh(settings))
    assert isinstance(model, Model)
    assert model.theta.function_space.dofmap.index_map_bs == 11  # 10 radial elements
    assert geometry["effective_parameters"]["specific_area_1_m"] == pytest.approx(3 * ACTIVE / 2e-6)
    model.set_initial_state()
    assert model.mean_stoichiometry() == pytest.approx(0.51, abs=1e-12)
    assert model.lithium_content() == pytest.approx(ACTIVE * 3.22e4 * 8.08e-6 * 0.51, rel=1e-12)


def _constant_diffusivity(x, T):
    return 5.387e-15 + 0.0 * x


def _rising_diffusivity(x, T):
    return 5.387e-15 * (1.0 + 4.0 * x)


def _loss_after_300_s(diffusivity) -> tuple[float, float]:
    cfg = homogenised(  # conductive enough that every particle sees the same flux
        cell={"electrolyte": {"conductivity_S_m": 10.0}, "positive": {"diffusivity_m2_s": diffusivity}},
        experiment={"steps": ["Discharge at 2 A/m2 for 300 s"]},
        solver=_fixed_steps(10.0),
    )
    s = simulate(cfg).series
    return float(s.column("voltage_V")[-1]), float(s.column("loss_diffusion_positive_V")[-1])


def test_diffusivity_law_of_stoichiometry():
    """D given as a law D(x, T) is evaluated per radial element: a law of constant value gives
    the number's voltage (1e-9 V), and D >= D0 everywhere gives a smaller diffusion loss."""
    v_number, loss_number = _loss_after_300_s(5.387e-15)
    v_law, _ = _loss_after_300_s(_constant_diffusivity)
    _, loss_rising = _loss_after_300_s(_rising_diffusivity)
    assert abs(v_law - v_number) < 1e-9
    assert loss_number < loss_rising < 0.0  # losses are negative on discharge
    assert loss_rising > 0.5 * loss_number  # D rises to 4-5 D0 at x = 0.5 to 1: the loss falls well below


class _SigtermAfter(Observer):
    """Sends this process SIGTERM after a number of accepted steps (the run stops cleanly)."""

    def __init__(self, steps: int):
        self.steps = steps

    def on_row(self, sim, row: dict) -> None:
        if sim.state.accepted_steps == self.steps:
            os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.parametrize("thermal", ["isothermal", "lumped"])
def test_stop_and_restart_reproduce_the_run(tmp_path, thermal):
    """A homogenised run stopped by SIGTERM resumes from its checkpoint (the particle field and
    the temperature included) and ends where the uninterrupted run ends, each column to 1e-10 of
    its largest value (the heat stored decays towards 0 in the rest: the restart's round-off in
    the temperature, 1e-13 K, is far above 1e-10 of its last values)."""
    raw = homogenised(experiment={"steps": ["Discharge at 4 A/m2 until 3.9 V", "Rest for 60 s"]})
    names = ["time_s", "voltage_V", "capacity_mAh_cm2", "surface_stoichiometry", "lithium_mol_m2"]
    if thermal == "lumped":
        cooled = {"positive_terminal": {"type": "convection", "h_W_m2K": 10.0}}
        merge(raw, {"cell": {"positive": LICOO2_THERMAL}, "thermal": {"model": "lumped", "boundaries": cooled}})
        names += ["temperature_mean_K", "heat_generated_J", "heat_removed_J", "heat_stored_J"]
    cfg = resolve(raw)
    reference = run(cfg, tmp_path / "reference")
    stopped = run(cfg, tmp_path / "stopped", observers=[_SigtermAfter(20)])
    assert stopped.status == "incomplete"
    resumed = restart_run(tmp_path / "stopped")
    assert resumed.status == "complete"
    a, b = (read_table(tmp_path / name / "timeseries.csv") for name in ("reference", "stopped"))
    assert len(a) == len(b) == len(reference.series.rows)
    for name in names:
        resumed_column, reference_column = (np.array([float(r[name]) for r in t]) for t in (b, a))
        scale = np.abs(reference_column).max()
        assert np.allclose(resumed_column, reference_column, rtol=1e-10, atol=1e-10 * scale), name


def test_parameter_file_fills_the_unset_keys(tmp_path):
    """A file written by ``ssbfem effective`` (here by its writer, with round numbers) fills the
    keys the section leaves unset: the fractions, the interface area and each phase's tortuosity
    factors along x, y and z, so sigma_eff / sigma = eps / tau_k; a key the config sets wins, a
    relative path is taken from the config's folder, a phase that does not span is refused."""
    from ssbfem.effective import EffectiveParameters, write_parameters
    from ssbfem.settings import load_settings, to_toml

    measured = EffectiveParameters(
        mesh="test",
        bounds_um=(3.62, 11.7),
        volume_fraction_active=0.55,
        volume_fraction_electrolyte=0.40,
        volume_fraction_pores=0.05,
        tortuosity_factor_active=(2.5, 2.0, 2.0),
        tortuosity_factor_electrolyte=(4.0, 3.0, 3.0),
        specific_interface_area_1_m=8.0e5,
        contact_area_fraction=0.9,
        percolating_fraction_active=1.0,
        percolating_fraction_electrolyte=1.0,
    )
    write_parameters(measured, tmp_path / "params.toml")
    raw = homogenised(homogenised={"parameter_file": "params.toml", "particle_radius_um": RADIUS_UM})
    raw["homogenised"].pop("volume_fraction_active")
    raw["homogenised"]["tortuosity_factor_active"] = 1.25  # the config's own value wins
    (tmp_path / "cell.toml").write_text(to_toml(raw))
    hom = load_settings(tmp_path / "cell.toml").homogenised
    assert (hom.volume_fraction_active, hom.volume_fraction_pores) == (0.55, 0.05)
    assert hom.specific_interface_area_1_m == 8.0e5
    assert hom.percolating_fraction_active == 1.0
    assert hom.particle_radius_um == RADIUS_UM  # given: wins over the measured 3 eps_AM / a_s
    assert hom.tortuosity_factor_electrolyte == [4.0, 3.0, 3.0]  # x, y and z: a tensor on a 2D/3D mesh
    factors = hom.conductivity_factor("electrolyte", 0.40)
    assert factors == pytest.approx((0.40 / 4.0, 0.40 / 3.0, 0.40 / 3.0), rel=1e-15)
    assert hom.conductivity_factor("active", 0.55) == pytest.approx(0.55 / 1.25, rel=1e-15)
    partly_joined = EffectiveParameters(**{**measured.__dict__, "percolating_fraction_active": 0.8})
    write_parameters(partly_joined, tmp_path / "p.toml")
    raw = homogenised(homogenised={"parameter_file": str(tmp_path / "p.toml")})
    raw["homogenised"].pop("particle_radius_um")
    hom = validate(raw).homogenised
    assert hom.particle_radius_um == pytest.approx(3e6 * 0.55 / 8.0e5, rel=1e-15)  # 2.0625 um
    assert hom.percolating_fraction_active == 0.8
    assert hom.volume_fraction_active == ACTIVE  # the config's own
    isolated = EffectiveParameters(**{**measured.__dict__, "tortuosity_factor_electrolyte": (float("inf"),) * 3})
    write_parameters(isolated, tmp_path / "params.toml")
    with pytest.raises(InputError, match=r"homogenised\.parameter_file: the electrolyte phase .* does not span"):
        load_settings(tmp_path / "cell.toml")


def test_inert_active_material_is_left_out_of_the_reaction():
    """With half the active material not joined to the collector (p = 0.5), the cell is exactly
    the one holding only the joined half: eps_AM 0.6 with p = 0.5 and a_s gives the voltages of
    eps_AM 0.3, p = 1 and a_s / 2 (both phases' conductivity ratios given, so that eps_SE, which
    differs, enters nowhere), to round-off; charge passed = F x lithium inserted into the joined
    particles, to 1e-9."""
    common = {"conductivity_ratio_electrolyte": 0.2, "conductivity_ratio_active": 0.3, "radial_elements": 4}
    area = 3 * ACTIVE / (RADIUS_UM * 1e-6)
    steps = {"steps": ["Discharge at 4 A/m2 for 600 s"]}
    inert = homogenised(
        homogenised={**common, "percolating_fraction_active": 0.5, "specific_interface_area_1_m": area},
        experiment=steps,
    )
    joined = homogenised(
        homogenised={**common, "volume_fraction_active": 0.5 * ACTIVE, "specific_interface_area_1_m": 0.5 * area},
        experiment=steps,
    )
    a, b = simulate(inert).series, simulate(joined).series
    assert len(a.column("voltage_V")) == len(b.column("voltage_V"))
    assert np.abs(a.column("voltage_V") - b.column("voltage_V")).max() < 1e-10
    charge, inserted = lithium_charge_balance(a.rows)
    assert charge > 2000.0
    assert abs(charge - inserted) / abs(charge) < 1e-9


def test_a_current_beyond_the_cut_off_ends_the_step_at_once():
    """An electrolyte of 1e-6 S/m (1e-8 S/m effective in the composite) cannot carry 1C
    (2.08 A/m2) above 3.0 V: the voltage is below the cut-off as soon as the current is applied,
    so the step ends where it starts (no charge passed) and the experiment goes on."""
    raw = homogenised(
        cell={"electrolyte": {"conductivity_S_m": 1e-6}},
        homogenised={"conductivity_ratio_electrolyte": 0.01},
        experiment={"steps": ["Discharge at 1C until 3.0 V", "Rest for 10 s"]},
    )
    result = run(validate(raw))
    assert result.status == "complete"
    first, rest = result.steps
    assert first["end_reason"] == "voltage limit"
    assert first["end_s"] == first["start_s"] == 0.0
    assert first["capacity_mAh_cm2"] == 0.0
    assert first["end_voltage_V"] < 3.0
    assert rest["end_s"] == pytest.approx(10.0, rel=1e-12)


def ren_state_of_the_art(step: str) -> dict:
    """Ren et al. 2023 Table 3's state-of-the-art NMC811 | LLZO | Li cell (benchmarks/homogenised.py),
    coarse: its composite electrolyte conducts 4.8e-6 S/cm, R_ct and R_SP are 2600 ohm cm2 each."""
    from ssbfem.constants import GAS_CONSTANT as R

    return {
        "model": "homogenised",
        "cell": {
            "architecture": "composite",
            "dimension": 3,
            "electrolyte": {"material": "LLZO", "thickness_um": 10.0, "conductivity_S_m": 8e-2},
            "positive": {
                "material": "NMC811",
                "thickness_um": 50.0,
                "exchange_current_A_m2": R * 298.15 / (FARADAY * 0.26),
                "exchange_current_law": "constant",
                "film_resistance_ohm_cm2": 2600.0,
            },
            "positive_current_collector": {"material": "Al", "thickness_um": 10.0},
            "composite": {"volume_fraction": 0.75, "particle_diameter_um": 10.0},
        },
        "homogenised": {"tortuosity_exponent_electrolyte": 2.31, "grain_boundary_exponent_electrolyte": 1.39},
        "mesh": {"degree": 1, "electrolyte_elements": 2, "positive_elements": 8},
        "experiment": {"steps": [step]},
        "output": {"fields": False, "plot": False},
    }


def test_a_large_current_from_rest_is_reached_by_continuation(monkeypatch):
    """1C (36.7 A/m2) on the state-of-the-art cell: Newton cannot take the jump from rest at once
    (without continuation the run fails at t = 0); through fractions of the current it finds the
    state, which lies where monotonicity puts it: below the voltage 20 A/m2 gives, above the 3.0 V
    at which the cell passes more than 1C; charge is conserved to 1e-9."""
    from ssbfem import integrator

    one_c = run(validate(ren_state_of_the_art("Discharge at 1C until 3.0 V")))
    assert one_c.status == "complete" and one_c.steps[0]["end_reason"] == "voltage limit"
    first = one_c.series.rows[1]
    lower = run(validate(ren_state_of_the_art("Discharge at 20 A/m2 for 0.01 s"))).series.rows[1]
    hold = run(validate(ren_state_of_the_art("Hold at 3.0 V for 0.01 s"))).series.rows[1]
    assert 3.0 < first["voltage_V"] < lower["voltage_V"]
    assert hold["current_A_m2"] > first["current_A_m2"] > 36.0
    charge, inserted = lithium_charge_balance(one_c.series.rows)
    assert abs(charge - inserted) <= 1e-9 * charge
    monkeypatch.setattr(integrator, "CONTINUATION", (1.0,))
    with pytest.raises(SimulationError, match="at t = 0 s: Newton did not converge"):
        run(validate(ren_state_of_the_art("Discharge at 1C until 3.0 V")))


# -- thermal coupling: the homogenised cell in the lumped and full energy balances

LIPON_RHO_CP = 2680.0 * 1400.0  # J/(m3 K), the material library's LiPON


def thermal_homogenised(thermal: dict, **sections) -> dict:
    raw = homogenised(cell={"positive": LICOO2_THERMAL}, thermal=thermal)
    merge(raw, sections)
    return raw


@pytest.mark.parametrize("model", ["lumped", "full"])
def test_homogenised_energy_balance(model):
    """Generated = stored + removed (convection on one face, radiation on the other) to 1e-6 of
    the heat generated over a 4C discharge; Joule and irreversible heat are never negative."""
    boundaries = {
        "positive_terminal": {"type": "convection", "h_W_m2K": 10.0},
        "negative_terminal": {"type": "radiation", "emissivity": 0.8},
    }
    raw = thermal_homogenised({"model": model, "boundaries": boundaries})
    raw["experiment"] = {"steps": ["Discharge at 4C for 240 s"]}
    s = simulate(raw).series
    assert_heat_balance(s)
    if model == "full":  # a field: the cooled face is the coolest
        assert s["temperature_max_K"][-1] > s["temperature_min_K"][-1]


def test_homogenised_heat_is_the_electrical_work_lost():
    """Lumped, insulated. The discrete charge balances tested with the potentials themselves give,
    at every instant (exactly, for the converged Newton solution; checked to 1e-8 of its largest
    value at every row):

        Joule + irreversible = I (U_j - V),   I U_j = -int a_eff j U(x_surface) dx,

    U_j the reaction-weighted open-circuit potential of the particles' surfaces (j < 0 on
    discharge; the Li side's Joule and j eta included). Insulated, all the heat generated (these
    plus the reversible a_eff j T dU/dT) is stored: int Q dt = C (T - T0) with
    C = L_sep (rho c_p)_SE + L (eps_AM (rho c_p)_AM + eps_SE (rho c_p)_SE), to 1e-9."""
    from ssbfem.geometry import tags
    from ssbfem.geometry.tags import MESH_UNIT_M
    from ssbfem.observables import Observable

    work = Observable(
        "reaction_ocp_power_W_m2",
        integrand=lambda m: (
            -m.effective.reacting_area_1_m * MESH_UNIT_M * m.q["j:positive"] * m.ocp(m.q["theta_surface"])
        ),
        where=lambda m: m.measures.dx(tags.POSITIVE)(metadata=m.interface_rule),
        reduce="integral",
    )
    raw = thermal_homogenised({"model": "lumped"})
    raw["experiment"] = {"steps": ["Discharge at 4C for 300 s", "Rest for 60 s"]}
    s = run(resolve(raw), None, observables=[work]).series
    running = s["time_s"] > 0
    current, voltage = s["current_A_m2"][running], s["voltage_V"][running]
    irreversible = (s["heat_joule_W_m2"] + s["heat_reaction_W_m2"])[running]
    expected = s["reaction_ocp_power_W_m2"][running] - current * voltage
    scale = np.abs(expected).max()
    assert scale > 1.0  # W/m2: a real discharge
    assert np.abs(irreversible - expected).max() < 1e-8 * scale  # measured 8e-10
    pos, sep = raw["cell"]["positive"], raw["cell"]["electrolyte"]["thickness_um"] * 1e-6
    rho_cp_am = LICOO2_THERMAL["density_kg_m3"] * LICOO2_THERMAL["heat_capacity_J_kg_K"]
    capacity = sep * LIPON_RHO_CP + pos["thickness_um"] * 1e-6 * (ACTIVE * rho_cp_am + (1 - ACTIVE) * LIPON_RHO_CP)
    rise = s["temperature_mean_K"] - 298.15
    assert rise[-1] > 1.0
    assert np.allclose(s["heat_stored_J_m2"], capacity * rise, rtol=1e-9, atol=1e-12)
    assert s["heat_generated_J"][-1] == pytest.approx(s["heat_stored_J"][-1], rel=1e-9)
    assert np.all(s["heat_removed_J"] == 0.0)


def test_warm_homogenised_cell_conducts_by_arrhenius():
    """The electrolyte's conductivity follows sigma(T) = sigma_ref exp(-Ea/R (1/T - 1/T_ref))
    (LiPON, Ea = 0.51 eV) at the lumped temperature. Fast kinetics and a temperature-independent
    diffusivity leave the conductivity as the only coupling. With a heat capacity 1e6 times the
    real one the cell stays within 1e-3 K of T0 and gives the isothermal voltage; with the real one
    it warms by about 20 K and its separator's drop is I L_sep / sigma(T) at every row. Its voltage
    gain over the isothermal run lies between the separator's gain I L_sep (1/sigma(T0) -
    1/sigma(T)) and that of the whole electrolyte path with a uniform reaction,
    I (L_sep + L / (3 f_SE)) (1/sigma(T0) - 1/sigma(T)) (the reaction crowds towards the
    separator, shortening the ions' path)."""
    import ufl

    from ssbfem.geometry import tags
    from ssbfem.observables import Observable

    drop = Observable(
        "separator_drop_V", lambda m: ufl.grad(m.phi_e)[0], lambda m: m.measures.dx(tags.ELECTROLYTE), "integral"
    )
    fast = {
        "cell": {
            "negative": {"exchange_current_A_m2": 1e3},
            "positive": {"exchange_current_A_m2": 1e3, "diffusivity_activation_energy_J_mol": 0.0},
        },
        "experiment": {"steps": ["Discharge at 4C for 120 s"]},
    }
    series = {}
    for name, model, scale in (("isothermal", "isothermal", 1.0), ("huge", "lumped", 1e6), ("warm", "lumped", 1.0)):
        raw = thermal_homogenised({"model": model}, **fast)
        raw["cell"]["positive"]["density_kg_m3"] *= scale
        raw["cell"]["electrolyte"]["density_kg_m3"] = 2680.0 * scale
        series[name] = run(resolve(raw), None, observables=[drop]).series
    iso, huge, warm = series["isothermal"], series["huge"], series["warm"]
    assert abs(huge["temperature_mean_K"][-1] - 298.15) < 1e-3
    assert np.abs(np.interp(iso["time_s"], huge["time_s"], huge["voltage_V"]) - iso["voltage_V"]).max() < 2e-5
    sigma_ref, ea = raw["cell"]["electrolyte"]["conductivity_S_m"], 0.51 * FARADAY
    sigma = lambda T: sigma_ref * np.exp(-ea / GAS_CONSTANT * (1 / T - 1 / 298.15))
    separator = raw["cell"]["electrolyte"]["thickness_um"] * 1e-6
    T = warm["temperature_mean_K"]
    assert T[-1] - 298.15 > 10.0
    expected = -warm["current_A_m2"] * separator / sigma(T)
    assert np.allclose(warm["separator_drop_V"], expected, rtol=1e-6, atol=1e-12)
    current, resistivity_change = iso["current_A_m2"][-1], 1 / sigma(298.15) - 1 / sigma(T[-1])
    gain = warm["voltage_V"][-1] - iso["voltage_V"][-1]
    uniform = current * (separator + raw["cell"]["positive"]["thickness_um"] * 1e-6 / (3 * (1 - ACTIVE) ** 1.5))
    assert current * separator * resistivity_change < gain < uniform * resistivity_change


def test_one_composite_config_runs_either_model_with_a_lumped_temperature():
    """demos/configs/composite_cathode.toml with thermal.model = "lumped" (LiCoO2's rho and c_p
    given: the library has none) runs resolved (a coarse 3D microstructure) and homogenised: the
    same time-series columns, each insulated cell storing all the heat it generates (to 1e-9)."""
    sets = [
        "thermal.model='lumped'",
        "cell.positive.density_kg_m3=5050.0",
        "cell.positive.heat_capacity_J_kg_K=750.0",
        "cell.composite.mesh_size_um=1.6",
        "cell.composite.mesh_size_max_um=3.2",
        "experiment.steps=['Discharge at 1C for 10 s']",
    ]
    config = REPO / "demos" / "configs" / "composite_cathode.toml"
    series = {
        model: simulate(load_config(config, [*sets, f"model='{model}'"])).series
        for model in ("resolved", "homogenised")
    }
    resolved, homogenised_ = series["resolved"], series["homogenised"]
    assert homogenised_.names == resolved.names
    for s in (resolved, homogenised_):
        assert s["temperature_mean_K"][-1] > 298.15 + 0.01
        assert s["heat_generated_J"][-1] == pytest.approx(s["heat_stored_J"][-1], rel=1e-9)


@pytest.mark.parametrize(
    ("section", "f_active", "f_electrolyte"),
    [
        ({}, ACTIVE**1.5, (1 - ACTIVE) ** 1.5),  # 1D, Bruggeman
        (  # 2D, a factor per direction: the x ones act across the stack
            {
                "dimension": 2,
                "tortuosity_factor_active": [1.5, 3.0, 3.0],
                "tortuosity_factor_electrolyte": [2.0, 4.0, 4.0],
            },
            ACTIVE / 1.5,
            (1 - ACTIVE) / 2.0,
        ),
    ],
)
def test_composite_conducts_heat_with_its_phases_factors(section, f_active, f_electrolyte):
    """At rest, T fixed on the negative face and a flux q into the positive face: the steady
    difference across the stack is q (L_sep / k_SE + L / k_eff), k_eff = f_AM k_AM + f_SE k_SE
    across the stack (LiCoO2 8.4, LiPON 1.4 W/(m K), the library's), to 1e-6."""
    flux = 1.0e4
    boundaries = {
        "negative_terminal": {"type": "fixed", "temperature_K": 298.15},
        "positive_terminal": {"type": "flux", "flux_W_m2": flux},
    }
    raw = thermal_homogenised({"model": "full", "boundaries": boundaries}, homogenised=section)
    raw["experiment"] = {"steps": ["Rest for 1 s"]}
    rise = simulate(raw).series["temperature_max_K"][-1] - 298.15
    k_eff = f_active * 8.4 + f_electrolyte * 1.4
    separator, composite = (raw["cell"][s]["thickness_um"] * 1e-6 for s in ("electrolyte", "positive"))
    assert rise == pytest.approx(flux * (separator / 1.4 + composite / k_eff), rel=1e-6)
