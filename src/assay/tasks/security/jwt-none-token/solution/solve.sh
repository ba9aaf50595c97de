#!/bin/sh
set -e
python3 - <<'EOF'
import base64, json
tok = open('session.txt').read().split()[-1]
p = tok.split('.')[1]
p += '=' * (-len(p) % 4)
open('answer.txt', 'w').write(json.loads(base64.urlsafe_b64decode(p))['note'])
EOF
