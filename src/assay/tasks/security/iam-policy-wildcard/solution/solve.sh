#!/bin/sh
set -e
python3 - <<'EOF'
import json, os
def as_list(v):
    return v if isinstance(v, list) else [v]
for name in sorted(os.listdir('policies')):
    doc = json.load(open(os.path.join('policies', name)))
    for st in as_list(doc['Statement']):
        if st['Effect'] == 'Allow' and '*' in as_list(st['Action']) and '*' in as_list(st['Resource']):
            open('answer.txt', 'w').write(name)
EOF
