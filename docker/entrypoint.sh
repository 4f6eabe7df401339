#!/bin/sh
# Container entry point: `ssbfem <arguments>`, on SSBFEM_NP MPI ranks when that is set above 1.
# It also works behind an outer launcher, as on clusters:
#   mpiexec -n 4 apptainer exec ssbfem.sif ssbfem-entrypoint run config.toml
# (each rank runs one ssbfem; leave SSBFEM_NP unset there).
set -eu
ranks="${SSBFEM_NP:-1}"
case "$ranks" in
    '' | *[!0-9]*) echo "ssbfem-entrypoint: SSBFEM_NP must be a whole number, got '$ranks'" >&2; exit 2 ;;
esac
if [ "$ranks" -gt 1 ]; then
    exec mpiexec -n "$ranks" ssbfem "$@"
fi
exec ssbfem "$@"
