#!/usr/bin/env bash
# Install the Debian packages the test suite needs; does nothing when they are present.
set -euo pipefail

# PostgreSQL for the tests on it; Chromium and the region's fonts for the browser tests
# (tests/web), which drive this browser: Playwright downloads none of its own.
PACKAGES=(postgresql chromium fonts-noto-core)

missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg -s "$package" >/dev/null 2>&1; then
        missing+=("$package")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
else
    as_root=(sudo)
fi

echo "installing system packages: ${missing[*]}"
"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
