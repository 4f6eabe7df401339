"""Double layers at the interfaces and the electrolyte's displacement current.

Equation: i_dl = C_dl d(phi_s - phi_e)/dt (A/m2, anodic positive; C_dl in F/m2; Pang et al.
2021 eq. 15), in parallel with the charge transfer: the charge balances see j + i_dl, the
lithium balance j alone. With them the electrolyte carries the displacement current
-eps d(grad phi_e)/dt (eps = eps_r eps_0, F/m), whose geometric capacitance eps/L gives the
bulk arc of an impedance spectrum. The potentials become dynamic fields (their rates by the
stepper's BDF formula).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssbfem.blocks.base import Block
from ssbfem.blocks.charge_transfer import interface
from ssbfem.constants import VACUUM_PERMITTIVITY
from ssbfem.errors import InputError
from ssbfem.geometry import tags
from ssbfem.physics.charge import ohmic_conduction

if TYPE_CHECKING:
    from ssbfem.model import CellModel

POTENTIALS = ("phi_e", "psi_pos", "voltage", "psi_neg")


class DoubleLayer(Block):
    """Publishes ``i_dl:positive`` and ``i_dl:negative`` (A/m2)."""

    def declare(self, model: CellModel) -> None:
        if model.cell.electrolyte.relative_permittivity is None:
            raise InputError(
                "cell.electrolyte.relative_permittivity", "required with a double layer (displacement current)"
            )
        for name in POTENTIALS:
            if name in model.fields:
                model.fields.make_dynamic(name, "potential")

    def quantities(self, model: CellModel) -> None:
        rate = {name: model.fields.rate(name, model.inv_dt, model.bdf) for name in POTENTIALS if name in model.fields}
        capacitance = {side: getattr(model.cell, side).double_layer_F_m2 for side in ("positive", "negative")}
        model.q["i_dl:positive"] = capacitance["positive"] * (
            rate["psi_pos"]("-") + rate["voltage"]("-") - rate["phi_e"]("+")
        )
        if model.has_negative:
            model.q["i_dl:negative"] = capacitance["negative"] * (rate["psi_neg"]("-") - rate["phi_e"]("+"))
        else:
            model.q["i_dl:negative"] = -capacitance["negative"] * rate["phi_e"]
        self.rate_phi_e = rate["phi_e"]

    def residual(self, model: CellModel) -> None:
        fields = model.fields
        permittivity = model.cell.electrolyte.relative_permittivity * VACUUM_PERMITTIVITY
        displacement = ohmic_conduction(
            self.rate_phi_e, fields["phi_e"].v, permittivity, model.measures.dx(tags.ELECTROLYTE)
        )
        model.residual.add("phi_e", "displacement", displacement)
        for side, conductor in (("positive", "psi_pos"), ("negative", "psi_neg")):
            where, i_dl = interface(model, side), model.q[f"i_dl:{side}"]
            term = f"double_layer:{side}"
            model.residual.add("phi_e", term, -i_dl * where.electrolyte(fields["phi_e"].v) * where.measure)
            if conductor in fields and where.meshed:
                model.residual.add(conductor, term, i_dl * where.electrode(fields[conductor].v) * where.measure)
