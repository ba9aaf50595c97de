#!/bin/sh
set -e
cat > files.py <<'EOF'
import os


def safe_open(base, name):
    root = os.path.realpath(base)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, path]) != root:
        raise ValueError('outside base')
    return open(path).read()
EOF
