"""Physical constants (CODATA 2018 exact values)."""

FARADAY = 96485.33212  # C/mol
GAS_CONSTANT = 8.314462618  # J/(mol K)
ELEMENTARY_CHARGE = 1.602176634e-19  # C
AVOGADRO = 6.02214076e23  # 1/mol
EV_TO_J_MOL = ELEMENTARY_CHARGE * AVOGADRO  # 1 eV per particle in J/mol
