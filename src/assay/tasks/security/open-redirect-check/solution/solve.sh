#!/bin/sh
set -e
cat > redirect.py <<'EOF'
def is_safe_next(url):
    return url.startswith('/') and not url.startswith('//') and '\\' not in url and ':' not in url.split('?')[0]
EOF
