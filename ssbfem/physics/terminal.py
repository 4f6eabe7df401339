"""The external circuit: terminals and the control of current, voltage or power.

Each terminal face is joined to its external conductor through an area-specific series
resistance R_s (ohm m2): the current density leaving the cell there is (phi_s - phi_ext)/R_s.
In a stack of unit cells every current collector is joined through a tab, spread over its
volume with the same resistance per footprint area.
The negative terminal is ground (phi_ext = 0); the positive terminal's external potential is
the cell voltage V, one global unknown. Its equation is the control law, averaged over the
positive terminal of area A_t (so the total current is exact, not approximated):

    galvanostatic:   mean((phi_s - V)/R_s) - I_set = 0
    potentiostatic:  V - V_set = 0 (scaled by 1 A/(V m2))
    constant power:  V mean((phi_s - V)/R_s) - P_set = 0 (W/m2)

I (A/m2 of footprint) and P are positive on discharge. The mode is chosen by three 0/1
weights so switching between steps needs no new forms.
"""

from __future__ import annotations

import ufl


def control_law(
    current_out, voltage, w, connection: ufl.Measure, footprint: ufl.Measure, footprint_area, mode, setpoint
) -> ufl.Form:
    """Residual of the control equation (test function w of the global voltage unknown).

    Args:
        current_out: Current density leaving the positive conductor where it is connected, A/m2.
        voltage: The cell-voltage unknown V.
        w: Its test function.
        connection: Where the current leaves: the positive terminal face, or the collectors' tabs.
        footprint: A measure of the cell's footprint (the terminal face, or the stack's bottom).
        footprint_area: Its area in mesh units (1 in 1D).
        mode: (m_I, m_V, m_P) weights, one of them 1.
        setpoint: (I_set A/m2, V_set V, P_set W/m2), per footprint area.
    """
    m_current, m_voltage, m_power = mode
    i_set, v_set, p_set = setpoint
    drawn = (m_current + m_power * voltage) * current_out * w / footprint_area * connection
    target = (m_voltage * (voltage - v_set) - m_current * i_set - m_power * p_set) * w / footprint_area * footprint
    return drawn + target
