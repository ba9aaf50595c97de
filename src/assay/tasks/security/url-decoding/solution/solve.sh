#!/bin/sh
set -e
python3 - <<'EOF'
import urllib.parse
q = open('request.txt').read().split()[1].split('?', 1)[1]
v = dict(p.split('=', 1) for p in q.split('&'))['token']
open('answer.txt', 'w').write(urllib.parse.unquote(urllib.parse.unquote(v)))
EOF
