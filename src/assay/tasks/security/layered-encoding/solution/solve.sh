#!/bin/sh
set -e
python3 - <<'EOF'
import base64, binascii, codecs
t = open('blob.txt').read().strip()
t = codecs.decode(t, 'rot13')
open('answer.txt', 'w').write(base64.b64decode(bytes.fromhex(t)).decode())
EOF
