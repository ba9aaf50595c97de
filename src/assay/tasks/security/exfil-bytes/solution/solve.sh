#!/bin/sh
set -e
grep 'dst=198.51.100.200 ' flows.log | sed 's/.*bytes=//' | awk '{s+=$1} END {printf "%d", s}' > answer.txt
