"""Parameter sweeps: one run per point of the Cartesian product of varied config keys.

A sweep varies config keys the way ``--set`` overrides them, e.g. ``cell.positive.thickness_um=4,8,16``
and ``cell.temperature_K=298.15,318.15`` give six cases. Each case runs in ``output/case_NNN`` and
``output/summary.csv`` gets one row per case (capacity, energy, mean voltage, the current of 1C), rewritten after every
case so a long sweep can be followed while it runs. A sweep whose cases change the positive
electrode's capacity (its thickness, say) runs each C-rate at its own case's 1C.

Cases run one after the other on the given communicator, every rank taking part in each case. Running
independent cases side by side on MPI sub-communicators (``comm.Split``) is a possible extension.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from mpi4py import MPI

from ssbfem.settings import load_settings
from ssbfem.errors import InputError, SimulationError
from ssbfem.runner import parse_steps, prepare_output, run

STEPS_KEY = "experiment.steps"
RESULT_COLUMNS = (
    "status",
    "end_time_s",
    "end_voltage_V",
    "capacity_mAh_cm2",
    "energy_mWh_cm2",
    "mean_voltage_V",
    "one_c_A_m2",
    "message",
)


#: Keys that change the positive electrode's capacity, and with it what 1C is.
CAPACITY_KEYS = (
    "cell.positive.thickness_um",
    "cell.positive.max_concentration_mol_m3",
    "cell.positive.initial_stoichiometry",
    "cell.composite.volume_fraction",
    "cell.units",
    "cell.interdigitated.",
)
_C_RATE = re.compile(r"(?<![A-Za-z])C(?![A-Za-z])")


def one_c_per_case(keys: list[str], configs: list, comm: MPI.Comm) -> None:
    """When the cases change the positive electrode's capacity and the steps use C-rates, 1C
    is each case's own electrode's: a fixed ``cell.nominal_capacity_mAh_cm2`` of the config
    (which would run every case at one current) is dropped, and the sweep says so."""
    varied = [k for k in keys if k.startswith(CAPACITY_KEYS)]
    nominal = "cell.nominal_capacity_mAh_cm2"
    if not varied or nominal in keys or not configs[0].cell.nominal_capacity_mAh_cm2:
        return
    if not any(_C_RATE.search(step) for cfg in configs for step in cfg.experiment.steps):
        return
    for cfg in configs:
        cfg.cell.nominal_capacity_mAh_cm2 = None
    if comm.rank == 0:
        print(
            f"ssbfem sweep: {varied[0]} varies, so 1C is each case's positive electrode capacity "
            f"({nominal} of the config not used; run.json records each case's 1C)",
            file=sys.stderr,
        )


def parse_vary(text: str) -> tuple[str, list]:
    """Parse ``key=v1,v2,...`` into the key and its values.

    Each value is read as a TOML scalar (``4`` -> 4, ``1e-13`` -> 1e-13, ``true`` -> True), or kept as
    a bare string when it is not one (``LiCoO2``). For ``experiment.steps`` the values are step strings
    separated by ``;`` (step strings hold commas) and each becomes a one-step experiment, so
    ``experiment.steps=Discharge at 1C until 3.0 V;Discharge at 2C until 3.0 V`` varies the C-rate.
    """
    if "=" not in text:
        raise InputError(text, "a sweep must read key=v1,v2,...")
    key, values_text = (s.strip() for s in text.split("=", 1))
    if not key:
        raise InputError(text, "the key is empty")
    if not values_text:
        raise InputError(key, "no values given")
    items = [s.strip() for s in values_text.split(";" if key == STEPS_KEY else ",")]
    if "" in items:
        raise InputError(key, f"empty value in {values_text!r}")
    if key == STEPS_KEY:
        return key, [[step] for step in items]
    values = []
    for item in items:
        try:
            value = tomllib.loads(f"v = {item}")["v"]
        except tomllib.TOMLDecodeError:
            value = item
        if not isinstance(value, (bool, int, float, str)):
            raise InputError(key, f"cannot vary over {item!r}: values must be numbers, booleans or strings")
        values.append(value)
    return key, values


def run_sweep(
    config_path: Path,
    varies: list[str],
    output: Path,
    overrides: list[str] | None = None,
    comm: MPI.Comm = MPI.COMM_WORLD,
    overwrite: bool = True,
) -> list[dict]:
    """Run every combination of the varied values; returns the summary rows (also in summary.csv).

    Every case's config (and experiment) is validated before anything runs, so bad input raises
    InputError and leaves no output behind. A case whose simulation fails is recorded as ``failed``
    with its message (and no numbers: its partial time series is in its directory), and the sweep goes
    on; a case stopped by SIGINT/SIGTERM ends the sweep. Cases not run yet read ``pending``. An
    earlier sweep in `output` is replaced, or refused unless `overwrite` (the command line's default).
    Columns: ``case``, the varied keys (a one-step experiment as its step string), then RESULT_COLUMNS.
    """
    parsed = [parse_vary(text) for text in varies]
    keys = [key for key, _ in parsed]
    if not keys:
        raise InputError("vary", "nothing to vary")
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise InputError(duplicates[0], "varied more than once")
    combos = list(itertools.product(*(values for _, values in parsed)))
    case_overrides = [
        [*(overrides or []), *(f"{k}={_toml_literal(v)}" for k, v in zip(keys, combo, strict=True))] for combo in combos
    ]
    base_dir = Path(config_path).resolve().parent  # relative profile files in steps, as for `ssbfem run`
    configs = []
    for combo, case_set in zip(combos, case_overrides, strict=True):
        try:
            cfg = load_settings(config_path, case_set)
            parse_steps(cfg, base_dir)  # the experiment is otherwise only read once its case starts
        except InputError as exc:
            where = ", ".join(f"{k}={_display(v)}" for k, v in zip(keys, combo, strict=True))
            raise InputError(exc.key, f"{exc.reason} (sweep case {where})") from None
        configs.append(cfg)
    one_c_per_case(keys, configs, comm)

    output = Path(output)
    prepare_output(output, comm, marker="summary.csv", kind="sweep", overwrite=overwrite)
    rows = [
        {
            "case": i,
            **{k: _display(v) for k, v in zip(keys, combo, strict=True)},
            **dict.fromkeys(RESULT_COLUMNS),
            "status": "pending",
        }
        for i, combo in enumerate(combos)
    ]
    _write_summary(output / "summary.csv", rows, comm)
    for i, cfg in enumerate(configs):
        try:
            result = run(cfg, output / f"case_{i:03d}", comm, base_dir=base_dir)
        except SimulationError as exc:
            rows[i].update(status="failed", message=str(exc))
        else:
            rows[i].update(_results(result.status, result.message, result.series.rows))
            rows[i]["one_c_A_m2"] = result.one_c["current_A_m2"]  # each case's 1C (run.json's one_c)
        _write_summary(output / "summary.csv", rows, comm)
        if rows[i]["status"] == "incomplete":  # stopped by SIGINT/SIGTERM: stop the sweep too
            break
    return rows


def _results(status: str, message: str, series: list[dict]) -> dict[str, Any]:
    """The summary values of one finished case from its time series."""
    if not series:  # stopped before its first point
        return {"status": status, "message": message}
    last = series[-1]
    capacity, energy = last["capacity_mAh_cm2"], last["energy_mWh_cm2"]
    mean_voltage = energy / capacity if capacity else sum(r["voltage_V"] for r in series) / len(series)
    return {
        "status": status,
        "end_time_s": last["time_s"],
        "end_voltage_V": last["voltage_V"],
        "capacity_mAh_cm2": capacity,
        "energy_mWh_cm2": energy,
        "mean_voltage_V": mean_voltage,
        "message": message,
    }


def _write_summary(path: Path, rows: list[dict], comm: MPI.Comm) -> None:
    """Rewrite summary.csv (rank 0) through a temporary file, so a reader never sees half a file."""
    if comm.rank != 0:
        return
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: repr(v) if isinstance(v, float) else v for k, v in row.items()} for row in rows)
    tmp.replace(path)


def _display(value: Any) -> Any:
    """A varied value as shown in the summary: a one-step experiment as its step string."""
    return "; ".join(value) if isinstance(value, list) else value


def _toml_literal(value: Any) -> str:
    """A value parsed by parse_vary written back in the TOML syntax of a ``--set`` override."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # inf and nan are TOML too
    if isinstance(value, list):
        return "[" + ", ".join(_toml_literal(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")  # a TOML basic string
