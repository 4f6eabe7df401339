"""ssbfem."""
