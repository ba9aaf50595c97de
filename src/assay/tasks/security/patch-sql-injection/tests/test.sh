#!/bin/sh
set -e
python3 - <<'EOF'
import sqlite3, sys
sys.path.insert(0, '.')
from users import find_user
conn = sqlite3.connect(':memory:')
conn.execute('CREATE TABLE users (id INTEGER, name TEXT)')
conn.executemany('INSERT INTO users VALUES (?, ?)', [(1, 'alice'), (2, 'bob'), (3, "o'brien")])
assert find_user(conn, 'alice') == [(1, 'alice')], 'real names must be found'
assert find_user(conn, "o'brien") == [(3, "o'brien")], 'quotes in names must work'
if find_user(conn, "x' OR '1'='1"):
    sys.exit('the injection still returns rows')
EOF
