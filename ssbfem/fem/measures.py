"""Integration measures of a cell mesh, addressed by the names of its cell and facet groups."""

from __future__ import annotations

import ufl

from ssbfem._dolfinx import dolfinx
from ssbfem.fem.fields import Submesh
from ssbfem.geometry.io import CellMesh

fem = dolfinx.fem


def interface_measure(cellmesh: CellMesh, names: list[str], plus_side: Submesh) -> ufl.Measure:
    """One interior-facet measure over the named interfaces, `plus_side`'s cells always on "+".

    Integrate over interface n with ``measure(cellmesh.facet_names[n])``. A form may hold one
    set of interior-facet data only, so every interface shares this measure.
    """
    msh = cellmesh.mesh
    subdomains = []
    for name in names:
        data = fem.compute_integration_domains(
            fem.IntegralType.interior_facet, msh.topology, cellmesh.facets(name)
        ).reshape(-1, 4)
        in_plus = plus_side.entity_map.sub_topology_to_topology(data[:, 0].copy(), inverse=True) >= 0
        data[~in_plus] = data[~in_plus][:, [2, 3, 0, 1]]
        subdomains.append((cellmesh.facet_names[name], data.ravel()))
    return ufl.Measure("dS", domain=msh, subdomain_data=subdomains)


class Measures:
    """``dx("positive", "positive_cc")``, ``ds("positive_terminal")``, ``dS("positive_interface")``
    on the parent mesh; the interfaces' measure has the electrolyte on "+" and its quadrature
    rule fixed once."""

    def __init__(self, cellmesh: CellMesh, interfaces: list[str], electrolyte: Submesh, interface_rule: dict):
        msh = cellmesh.mesh
        self.cellmesh = cellmesh
        self.cells = ufl.Measure("dx", domain=msh, subdomain_data=cellmesh.cell_tags)
        self.facets = ufl.Measure("ds", domain=msh, subdomain_data=cellmesh.facet_tags)
        self.interfaces = interface_measure(cellmesh, interfaces, electrolyte)(metadata=interface_rule)

    def dx(self, *layers: str) -> ufl.Measure:
        """The cells of the named layers that the mesh has (all cells when none is named)."""
        if not layers:
            return self.cells
        names = self.cellmesh.cell_names
        present = tuple(names[layer] for layer in layers if layer in names)
        if not present:
            raise KeyError(f"the mesh has none of the cell groups {layers}; it has {sorted(names)}")
        return self.cells(present if len(present) > 1 else present[0])

    def ds(self, name: str) -> ufl.Measure:
        return self.facets(self.cellmesh.facet_names[name])

    def dS(self, name: str) -> ufl.Measure:
        return self.interfaces(self.cellmesh.facet_names[name])
