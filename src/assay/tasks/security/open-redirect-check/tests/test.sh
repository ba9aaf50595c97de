#!/bin/sh
set -e
python3 - <<'EOF'
import sys
sys.path.insert(0, '.')
from redirect import is_safe_next
for ok in ['/account', '/a/b?x=1', '/']:
    assert is_safe_next(ok), ok
for bad in ['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)']:
    if is_safe_next(bad):
        sys.exit('accepted ' + bad)
EOF
