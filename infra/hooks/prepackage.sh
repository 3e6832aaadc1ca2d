#!/bin/sh
# azd prepackage hook of the api service (Linux, macOS): compiles the app's own modules (function_app.py
# and the shared package) so that their bytecode ships in the deployment package. Flex Consumption runs the
# app from a read-only package, where Python cannot cache what it compiles: without this every cold start
# compiles them again (about 0.2 s CPU on the development machine, docs/performance.md). The bytecode is
# checked-hash: Python checks it against a hash of the source rather than its timestamp, so it stays valid
# whatever times zip, upload and unpacking give the files; -f rewrites the bytecode a local run left
# timestamp-based.
# The interpreter must be of the Function App's Python (its runtime version in infra/app/function.bicep; a
# test compares the two): bytecode carries its interpreter's cache tag (cpython-313), and another
# version's is ignored. .funcignore ships only that tag's bytecode.
# Without such an interpreter the hook warns, naming what to install, and the deploy goes on: the app works
# without its bytecode, only its cold starts are slower. Anything else that fails (a module that does not
# compile, a file that cannot be written) stops the deploy.
# azd runs service hooks in the service's directory (`project: .`, this repository's root).
# Mirrored by prepackage.ps1 (Windows); tests/infra/test_hooks.py runs this one and compares the two.
set -u

version=3.13

warn() {
  echo "prepackage: $1" >&2
}

fail() {
  echo "prepackage: $1" >&2
  exit 1
}

if [ ! -f function_app.py ] || [ ! -d shared ]; then
  fail "function_app.py and shared/ are not in the working directory: run the hook from the api service's directory"
fi

# The project's own environment first (`make install` builds it with Python 3.13), then PATH.
python=""
for candidate in .venv/bin/python "python$version" python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 &&
    "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != (${version%.*}, ${version#*.}))" >/dev/null 2>&1; then
    python=$candidate
    break
  fi
done

if [ -z "$python" ]; then
  warn "no Python $version found (.venv, python$version, python3, python; py -$version on Windows): the package ships without the app's bytecode, so each cold start in Azure compiles it. Install Python $version (or run make install) and package again"
  exit 0
fi

# Bytecode goes next to the source, where the runtime looks, not to a cache of this machine's.
unset PYTHONPYCACHEPREFIX
"$python" -m compileall -q -f --invalidation-mode checked-hash function_app.py shared ||
  fail "compiling function_app.py and shared/ with Python $version failed (the errors are above)"
echo "prepackage: compiled function_app.py and shared/ with $python (Python $version, checked-hash bytecode)"
