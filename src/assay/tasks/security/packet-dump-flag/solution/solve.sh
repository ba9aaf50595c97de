#!/bin/sh
set -e
python3 - <<'EOF'
lines = open('capture.txt').read().split('\n')
parts = []
for i, line in enumerate(lines):
    if '.4444 >' in line:
        seq = int(line.split('seq ')[1].split(',')[0])
        parts.append((seq, lines[i + 1].strip()))
open('answer.txt', 'w').write(''.join(p for _, p in sorted(parts)))
EOF
