#!/bin/sh
set -e
python3 - <<'EOF'
import sys
conf = {}
for line in open('sshd_config'):
    parts = line.split()
    if parts and not parts[0].startswith('#'):
        conf.setdefault(parts[0].lower(), parts[1] if len(parts) > 1 else '')
wanted = {'permitrootlogin': 'no', 'passwordauthentication': 'no', 'permitemptypasswords': 'no'}
for key, value in wanted.items():
    if conf.get(key, '').lower() != value:
        sys.exit(f'{key} is {conf.get(key)!r}')
for key in ('port', 'x11forwarding', 'subsystem'):
    if key not in conf:
        sys.exit(f'{key} was removed')
EOF
