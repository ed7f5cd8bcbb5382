#!/usr/bin/env bash
# Create the virtualenv $1 (if missing) and install pocketstack into it, editable,
# with the test extras. When the package index cannot be reached, install
# from the wheels pip already knows locally (its find-links) instead of
# retrying every package against an index that does not answer.
set -euo pipefail
venv=$1
python=${PYTHON:-python3}
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/pip" --disable-pip-version-check)
probe=$(mktemp -d)
# Ask the index alone (no local wheel directories) for one small package.
index=$("${pip[@]}" config get global.index-url 2>/dev/null || true)
if env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null "${pip[@]}" download -q --no-deps \
        --retries 0 --timeout 15 ${index:+--index-url "$index"} -d "$probe" pip >/dev/null 2>&1; then
    offline=()
else
    echo "package index unreachable: installing from local wheels only"
    offline=(--no-index)
fi
rm -rf "$probe"
"${pip[@]}" install -q "${offline[@]}" --upgrade pip || true
"${pip[@]}" install -q "${offline[@]}" -e '.[test]'
