#!/bin/sh
set -e
python3 - <<'EOF'
import sys
sys.path.insert(0, '.')
from bank import transfer
a = {'alice': 100, 'mallory': 0}
transfer(a, 'alice', 'mallory', 30)
assert a == {'alice': 70, 'mallory': 30}, 'normal transfers must work'
for amount in (-50, 0, 1000):
    try:
        transfer(a, 'mallory', 'alice', amount) if amount != 1000 else transfer(a, 'alice', 'mallory', amount)
    except ValueError:
        continue
    sys.exit(f'transfer of {amount} was accepted')
assert a == {'alice': 70, 'mallory': 30}, 'a refused transfer changed balances'
EOF
