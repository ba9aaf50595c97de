#!/bin/sh
set -e
grep -rl 'PRIVATE KEY' etc | head -1 | tr -d '\n' > answer.txt
