#!/bin/sh
set -e
python3 - <<'EOF'
import re
parts = re.findall(r'(\d+)-([0-9a-f]+)\.x\.exfil', open('dns.log').read())
hexs = ''.join(h for _, h in sorted(parts, key=lambda p: int(p[0])))
open('answer.txt', 'w').write(bytes.fromhex(hexs).decode())
EOF
