#!/bin/sh
set -e
grep 'Failed password' auth.log | awk '{print $(NF-3)}' | sort | uniq -c | sort -rn | head -1 | awk '{printf "%s", $2}' > answer.txt
