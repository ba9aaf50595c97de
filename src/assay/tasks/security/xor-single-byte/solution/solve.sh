#!/bin/sh
set -e
python3 - <<'EOF'
c = bytes.fromhex(open('cipher.hex').read().strip())
for k in range(256):
    p = bytes(b ^ k for b in c)
    if p.startswith(b'ASSAY{'):
        open('answer.txt', 'wb').write(p)
EOF
