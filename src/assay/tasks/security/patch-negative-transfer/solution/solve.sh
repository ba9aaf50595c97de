#!/bin/sh
set -e
cat > bank.py <<'EOF'
def transfer(accounts, src, dst, amount):
    if amount <= 0 or accounts[src] < amount:
        raise ValueError('invalid amount')
    accounts[src] -= amount
    accounts[dst] += amount
EOF
