#!/bin/sh
set -e
grep -i 'union' access.log | head -1 | awk '{printf "%s", $1}' > answer.txt
