#!/bin/sh
set -e
python3 - <<'EOF'
import os, sys
sys.path.insert(0, '.')
from files import safe_open
assert safe_open('public', 'hello.txt') == 'hello\n', 'ordinary names must work'
for evil in ['../files.py', '/etc/hostname', 'sub/../../files.py']:
    try:
        safe_open('public', evil)
    except (ValueError, FileNotFoundError) as exc:
        if isinstance(exc, FileNotFoundError) and os.path.exists(os.path.join('public', evil)):
            sys.exit('exploit still works: ' + evil)
        continue
    sys.exit('exploit still works: ' + evil)
EOF
