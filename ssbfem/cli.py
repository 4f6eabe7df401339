"""Command line: ``ssbfem run CONFIG``, ``ssbfem mesh CONFIG``, ``ssbfem effective MESH`` and more.

Exit status: 0 on success, 1 when the simulation fails, 2 on bad input.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ssbfem.errors import InputError, SimulationError

if TYPE_CHECKING:
    from ssbfem.settings import Settings


#: Where relative paths start from, in every subcommand's help.
PATHS = (
    "Paths on the command line (CONFIG, --output, --restart, mesh.file or homogenised.parameter_file given with "
    "--set) are relative to the working directory; a path written in a config file is relative to that file's folder."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssbfem",
        description="Finite-element models of solid-state batteries.",
        epilog=PATHS,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # --version's line unwrapped
    )
    parser.add_argument("--version", action="version", version=_version_text())
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a cell through its experiment", epilog=PATHS)
    run.add_argument("config", type=Path, nargs="?", help="TOML config file")
    run.add_argument(
        "--output", "-o", type=Path, help="output directory (default: results/<config name> in the working directory)"
    )
    run.add_argument("--restart", type=Path, metavar="DIR", help="resume the run in DIR from its last checkpoint")
    run.add_argument("--overwrite", action="store_true", help="replace an earlier run in the output directory")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. cell.positive.diffusivity_m2_s=1e-13 (a file path relative to the "
        "working directory)",
    )
    sweep = sub.add_parser("sweep", help="run a grid of cases varying config keys; writes summary.csv", epilog=PATHS)
    sweep.add_argument("config", type=Path)
    sweep.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        required=True,
        help="a config key and its values (for experiment.steps, separate the steps with ';')",
    )
    sweep.add_argument("--output", "-o", type=Path, help="output directory (default: results/<config name>_sweep)")
    sweep.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    sweep.add_argument("--overwrite", action="store_true", help="replace an earlier sweep in the output directory")
    sub.add_parser("info", help="versions of ssbfem, DOLFINx, PETSc (packages, build), MPI and the number of ranks")
    mesh = sub.add_parser("mesh", help="build the mesh of a config and write it as .msh", epilog=PATHS)
    mesh.add_argument("config", type=Path)
    mesh.add_argument("--output", "-o", type=Path, help="output .msh file (default: <config name>.msh)")
    mesh.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    effective = sub.add_parser(
        "effective", help="effective parameters of a mesh's composite electrode layer, for a homogenised model"
    )
    effective.add_argument("mesh", type=Path, help=".msh file with named physical groups (micrometres)")
    effective.add_argument("--output", "-o", type=Path, help="parameter file (default: <mesh name>_effective.toml)")
    effective.add_argument(
        "--bounds",
        nargs=2,
        type=float,
        metavar=("X0", "X1"),
        help="the layer's extent along x, um (default: from the separator's to the collector's face)",
    )
    return parser


def _version_text() -> str:
    """``ssbfem X (DOLFINx Y)``: the package's version and DOLFINx's, read from the installed
    distributions' metadata (importing DOLFINx would start MPI and take seconds); ``ssbfem info``
    gives the whole stack."""
    from importlib.metadata import PackageNotFoundError, version

    from ssbfem import __version__

    text = f"ssbfem {__version__}"
    for dist in ("dolfinx-solver-real", "dolfinx-solver-complex", "fenics-dolfinx"):
        try:
            text += f" (DOLFINx {version(dist)} from {dist})"
            break
        except PackageNotFoundError:
            continue
    return text + "; `ssbfem info` lists PETSc, MPI and the rest"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    command = shlex.join(["ssbfem", *(argv if argv is not None else sys.argv[1:])])
    if args.command == "info":
        info = _info(comm)
        if comm.rank == 0:
            for key, value in info.items():
                print(f"{key}: {value}")
        return 0
    try:
        if args.command == "effective":
            return _effective(args, comm)
        from ssbfem.settings import load_settings
        from ssbfem.runner import restart_run, run

        if args.command == "run" and args.restart is not None:
            if args.config is not None or args.overrides:
                raise InputError("--restart", "resumes a run with its own config: give no config and no --set")
            result = restart_run(args.restart, comm, progress=sys.stderr.isatty(), command=command)
            return _report(result, args.restart, comm)
        if args.config is None:
            raise InputError("config", "give a config file (or --restart DIR)")
        if args.command == "sweep":
            from ssbfem.sweep import run_sweep

            output = args.output or Path("results") / f"{args.config.stem}_sweep"
            rows = run_sweep(args.config, args.vary, output, args.overrides, comm, overwrite=args.overwrite)
            failed = [r for r in rows if r["status"] != "complete"]
            if comm.rank == 0:
                print(f"{len(rows) - len(failed)} of {len(rows)} cases complete -> {output / 'summary.csv'}")
            return 1 if failed else 0
        cfg = load_settings(args.config, args.overrides)
        if args.command == "mesh":
            return _mesh(cfg, args, comm)
        output = args.output or Path("results") / args.config.stem
        base_dir = args.config.resolve().parent
        result = run(
            cfg,
            output,
            comm,
            progress=sys.stderr.isatty(),
            command=command,
            base_dir=base_dir,
            overwrite=args.overwrite,
        )
        return _report(result, output, comm)
    except InputError as exc:
        if comm.rank == 0:
            print(f"ssbfem: error: {exc}", file=sys.stderr)
        return 2
    except SimulationError as exc:
        if comm.rank == 0:
            print(f"ssbfem: simulation failed: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # `import gmsh` without the system libraries its wheel links against
        from ssbfem.system_check import explain

        if (text := explain(exc)) is None:
            raise
        if comm.rank == 0:
            print(f"ssbfem: {exc}\n{text}", file=sys.stderr)
        return 2


#: PETSc external packages worth knowing about for ssbfem's solvers and I/O.
_PETSC_PACKAGES = ("mumps", "superlu_dist", "hypre", "scalapack", "metis", "parmetis", "ptscotch", "hdf5")


def _info(comm) -> dict:
    """Versions of the software stack, PETSc's build, MPI and the number of ranks."""
    import platform

    import basix
    import ffcx
    import mpi4py
    import petsc4py
    import ufl

    from ssbfem._dolfinx import PETSc, dolfinx
    from ssbfem.results import versions

    info = versions()
    info["petsc_packages"] = ", ".join(p for p in _PETSC_PACKAGES if PETSc.Sys.hasExternalPackage(p)) or "none"
    scalar = "complex" if dolfinx.default_scalar_type().dtype.kind == "c" else "real"
    index_bits = PETSc.IntType(0).dtype.itemsize * 8
    info["petsc_build"] = f"{scalar} {PETSc.ScalarType().dtype.itemsize * 8}-bit scalars, {index_bits}-bit indices"
    info["adios2"] = "yes" if dolfinx.has_adios2 else "no (no VTX field output)"
    info.update(
        python=platform.python_version(),
        basix=basix.__version__,
        ufl=ufl.__version__,
        ffcx=ffcx.__version__,
        petsc4py=petsc4py.__version__,
        mpi4py=mpi4py.__version__,
        ranks=comm.size,
    )
    return info


def _report(result, output: Path, comm) -> int:
    """Print a one-line summary; exit 0 when complete, 1 when stopped early."""
    if comm.rank == 0:
        last = result.series.rows[-1]
        print(
            f"{result.status}: {last['time_s']:.1f} s, {last['voltage_V']:.4f} V, "
            f"{last['capacity_mAh_cm2']:.5f} mAh/cm2 -> {output}"
        )
        if result.message:
            print(f"ssbfem: {result.message}", file=sys.stderr)
    return 0 if result.status == "complete" else 1


def _mesh(cfg: Settings, args, comm) -> int:
    from ssbfem.geometry.io import FLAT_ELEMENT_QUALITY, write_msh
    from ssbfem.runner import mesh_builder

    output = args.output or Path(args.config.stem + ".msh")
    build = mesh_builder(cfg)
    if comm.rank == 0:
        stats = write_msh(build, output)
        print(f"wrote {output}")
        if "volume_fraction" in stats:
            print(
                f"active volume fraction {stats['volume_fraction']:.4f} on the mesh "
                f"({stats['geometry_volume_fraction']:.4f} of the exact geometry)"
            )
        if "worst_quality" in stats:
            print(f"worst tetrahedron quality (Gmsh minSICN) {stats['worst_quality']:.2g}")
            if stats["worst_quality"] < FLAT_ELEMENT_QUALITY:
                print(
                    f"ssbfem: warning: a tetrahedron flatter than {FLAT_ELEMENT_QUALITY:g}: the iterative solvers' "
                    "multigrid may need twice the iterations on this mesh; a coarser mesh or another "
                    "cell.composite.seed may avoid it",
                    file=sys.stderr,
                )
    return 0


def _effective(args, comm) -> int:
    """Measure the effective parameters on the mesh (all ranks), write and print them (rank 0)."""
    from ssbfem.effective import effective_parameters, summary_table, write_parameters
    from ssbfem.geometry.io import load_mesh

    output = args.output or Path(f"{args.mesh.stem}_effective.toml")
    bounds = tuple(args.bounds) if args.bounds else None
    params = effective_parameters(load_mesh(args.mesh, comm), bounds, mesh_name=args.mesh.name)
    if comm.rank == 0:
        write_parameters(params, output)
        print(summary_table(params))
        print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
