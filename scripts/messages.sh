#!/usr/bin/env bash
# Extract every word of the pages into web/locale/homeward.pot and bring each language's
# catalog up to date with it (new words appear untranslated, gone ones are marked obsolete).
set -euo pipefail

cd "$(dirname "$0")/.."

LANGUAGES=(bn ne hi ur si ta)
POT=web/locale/homeward.pot

.venv/bin/pybabel extract -F babel.cfg -k N_ --no-wrap --sort-by-file \
    --project=Homeward --copyright-holder="Homeward contributors" -o "$POT" web
for language in "${LANGUAGES[@]}"; do
    catalog="web/locale/$language/LC_MESSAGES/homeward.po"
    if [ -e "$catalog" ]; then
        .venv/bin/pybabel update --no-wrap -D homeward -i "$POT" -d web/locale -l "$language"
    else
        .venv/bin/pybabel init -D homeward -i "$POT" -d web/locale -l "$language"
    fi
done
