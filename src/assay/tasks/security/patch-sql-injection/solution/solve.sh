#!/bin/sh
set -e
cat > users.py <<'EOF'
def find_user(conn, name):
    return conn.execute('SELECT id, name FROM users WHERE name = ?', (name,)).fetchall()
EOF
