#!/bin/sh
set -e
cat > app.py <<'EOF'
import html


def render_comment(author, text):
    return '<div class="c"><b>' + html.escape(author) + '</b>: ' + html.escape(text) + '</div>'
EOF
