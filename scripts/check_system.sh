#!/usr/bin/env bash
# Check the system libraries the gmsh wheel loads (it links X11 and OpenGL even without a
# display) and Python's venv module, before `make` builds the virtual environment; name the
# packages to install when any is missing.
#
# Usage: scripts/check_system.sh [PYTHON]
# Environment: LDCONFIG (default: ldconfig, else /sbin/ldconfig) lists the linker's libraries.
set -u

# soname, Debian/Ubuntu package, Fedora/RHEL package: what libgmsh.so links (readelf -d) beyond
# what every Linux system has.
LIBRARIES=(
  "libGLU.so.1 libglu1-mesa mesa-libGLU"
  "libGL.so.1 libgl1 libglvnd-glx"
  "libX11.so.6 libx11-6 libX11"
  "libXext.so.6 libxext6 libXext"
  "libXrender.so.1 libxrender1 libXrender"
  "libXcursor.so.1 libxcursor1 libXcursor"
  "libXfixes.so.3 libxfixes3 libXfixes"
  "libXft.so.2 libxft2 libXft"
  "libXinerama.so.1 libxinerama1 libXinerama"
  "libfontconfig.so.1 libfontconfig1 fontconfig"
  "libgomp.so.1 libgomp1 libgomp"
)

python=${1:-python3}
ldconfig=${LDCONFIG:-$(command -v ldconfig || echo /sbin/ldconfig)}
if ! listing=$("$ldconfig" -p 2>/dev/null); then
  echo "note: cannot list the system libraries ($ldconfig -p); not checked" >&2
  listing=""
  skip=1
fi

missing_deb=() missing_rpm=() missing_libs=()
if [ -z "${skip:-}" ]; then
  for entry in "${LIBRARIES[@]}"; do
    read -r soname deb rpm <<<"$entry"
    if ! grep -q "^[[:space:]]*$soname " <<<"$listing"; then
      missing_libs+=("$soname") missing_deb+=("$deb") missing_rpm+=("$rpm")
    fi
  done
fi
if ! "$python" -c "import ensurepip, venv" 2>/dev/null; then
  missing_libs+=("Python's venv module") missing_deb+=("python3-venv") missing_rpm+=("python3-libs")
fi

if [ ${#missing_libs[@]} -gt 0 ]; then
  echo "error: missing on this system: ${missing_libs[*]}" >&2
  echo "  (the gmsh wheel loads X11 and OpenGL libraries even without a display; make builds a venv)" >&2
  echo "  Debian/Ubuntu: sudo apt-get install -y ${missing_deb[*]}" >&2
  echo "  Fedora/RHEL:   sudo dnf install -y ${missing_rpm[*]}" >&2
  exit 1
fi
