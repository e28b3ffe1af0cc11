#!/usr/bin/env bash
# Creates the Python virtual environment used by the cross-client tests (tests/cross_client):
# .venv/ at the repository root with boto3, the AWS CLI v1 (`.venv/bin/aws`) and pytest, at the
# versions pinned in tests/cross_client/requirements.txt, installed from PyPI only.
#
# Idempotent and fast when nothing changed: a stamp file inside .venv records the hash of the
# requirements file and of the interpreter's version; when it matches and the tools are there,
# the script exits without touching the network.
#
# Usage: bash scripts/setup-test-env.sh        (PYTHON=python3.X to pick another interpreter)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.venv"
requirements="$repo_root/tests/cross_client/requirements.txt"
stamp="$venv/.stator-test-env.stamp"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "setup-test-env: '$python' not found; install Python 3.9 or newer" >&2
    exit 1
fi
# One interpreter call (pyenv shims cost ~0.5 s each): print the version, fail when too old.
python_version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3]); sys.exit(sys.version_info < (3, 9))')" || {
    echo "setup-test-env: $("$python" --version 2>&1) is too old; Python 3.9 or newer is needed" >&2
    exit 1
}
wanted="$( { cat "$requirements"; echo "python=$python_version"; } | sha256sum | cut -d' ' -f1)"

venv_ok() {
    [[ -x "$venv/bin/python" && -x "$venv/bin/aws" && -x "$venv/bin/pytest" ]] \
        && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1
}

if [[ -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$wanted" ]] && venv_ok; then
    echo "setup-test-env: .venv is up to date"
    exit 0
fi

# A venv built by another interpreter version cannot be upgraded in place reliably: rebuild it.
if [[ -x "$venv/bin/python" ]]; then
    venv_python_version="$("$venv/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || echo broken)"
    if [[ "$venv_python_version" != "$python_version" ]]; then
        echo "setup-test-env: .venv uses Python $venv_python_version, want $python_version; rebuilding"
        rm -rf "$venv"
    fi
elif [[ -e "$venv" ]]; then
    rm -rf "$venv"
fi

rm -f "$stamp"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup-test-env: creating $venv with $python ($python_version)"
    if ! "$python" -m venv "$venv" 2>/tmp/stator-venv-err.$$; then
        # Debian's python3 without python3-venv has no ensurepip: make the venv without pip and
        # drive the interpreter's own pip against it (pip >= 22.3 knows --python).
        cat /tmp/stator-venv-err.$$ >&2
        rm -rf "$venv"
        "$python" -m venv --without-pip "$venv"
    fi
    rm -f /tmp/stator-venv-err.$$
fi

pip_flags=(--disable-pip-version-check --no-input --quiet)
if [[ -x "$venv/bin/pip" ]]; then
    "$venv/bin/python" -m pip install "${pip_flags[@]}" -r "$requirements"
else
    "$python" -m pip --python "$venv/bin/python" install "${pip_flags[@]}" -r "$requirements"
fi

# Check that the tools actually run before declaring success.
"$venv/bin/python" -c 'import boto3, botocore, pytest' >/dev/null
"$venv/bin/aws" --version >/dev/null 2>&1 || {
    echo "setup-test-env: .venv/bin/aws does not run" >&2
    exit 1
}

echo "$wanted" >"$stamp"
echo "setup-test-env: ready ($("$venv/bin/aws" --version 2>&1 | cut -d' ' -f1), boto3 $("$venv/bin/python" -c 'import boto3; print(boto3.__version__)'), pytest $("$venv/bin/python" -c 'import pytest; print(pytest.__version__)'))"
