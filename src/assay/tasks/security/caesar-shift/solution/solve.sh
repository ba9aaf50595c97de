#!/bin/sh
set -e
python3 - <<'EOF'
import re
t = open('note.txt').read()
def shift(s, k):
    return ''.join(chr((ord(c)-65+k)%26+65) if c.isupper() else chr((ord(c)-97+k)%26+97) if c.islower() else c for c in s)
for k in range(26):
    m = re.search(r'ASSAY\{[^}]*\}', shift(t, k))
    if m:
        open('answer.txt', 'w').write(m.group(0))
EOF
