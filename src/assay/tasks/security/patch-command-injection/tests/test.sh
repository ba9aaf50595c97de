#!/bin/sh
set -e
python3 - <<'EOF'
import sys
sys.path.insert(0, '.')
import ping
assert ping.ping_command('example.org') == ['ping', '-c', '1', 'example.org']
assert ping.ping_command('10.0.0.1') == ['ping', '-c', '1', '10.0.0.1']
for evil in ['x; touch pwned', '$(id)', 'a|b', '`id`', '-f']:
    try:
        ping.run(evil)
    except ValueError:
        continue
    sys.exit('accepted ' + evil)
import os
if os.path.exists('pwned'):
    sys.exit('a command was injected')
EOF
