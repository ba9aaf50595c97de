#!/bin/sh
set -e
python3 - <<'EOF'
import sys
sys.path.insert(0, '.')
from app import render_comment
assert render_comment('ann', 'hi') == '<div class="c"><b>ann</b>: hi</div>'
out = render_comment('<img src=x onerror=alert(1)>', '<script>alert(1)</script>')
if '<script>' in out or '<img' in out:
    sys.exit('markup from users is still rendered: ' + out)
EOF
