"""Analyses of run results that experimentalists apply to measured data."""

from __future__ import annotations

import itertools
import math

import numpy as np

from ssbfem.results import TimeSeries


def gitt_diffusivities(series: TimeSeries, steps: list[dict], thickness_m: float) -> list[float]:
    """Chemical diffusivity from each GITT pulse (Weppner and Huggins 1977), m2/s.

    D = 4 L^2/(pi tau) (dE_s/dE_t)^2 for a film of thickness L (the diffusion length) and a
    pulse of length tau << L^2/D: dE_s is the change of the relaxed voltage from the rest before
    the pulse to the rest after it, dE_t the voltage change during the pulse without the
    instantaneous (ohmic and charge-transfer) jump. Pulses are the current steps followed by a
    rest; the first time step of a pulse gives its start voltage.
    """
    t, v, step = series["time_s"], series["voltage_V"], series["step"]
    estimates = []
    relaxed_before = v[0]
    for pulse, rest in itertools.pairwise(steps):
        charge = abs(pulse["capacity_mAh_cm2"])
        if charge == 0.0 or abs(rest["capacity_mAh_cm2"]) > 1e-9 * charge:
            continue
        in_pulse = np.flatnonzero(step == pulse["step"])
        in_pulse = in_pulse[t[in_pulse] > pulse["start_s"]]
        tau = pulse["end_s"] - pulse["start_s"]
        d_transient = v[in_pulse[-1]] - v[in_pulse[0]]
        d_steady = rest["end_voltage_V"] - relaxed_before
        estimates.append(4.0 * thickness_m**2 / (math.pi * tau) * (d_steady / d_transient) ** 2)
        relaxed_before = rest["end_voltage_V"]
    return estimates
