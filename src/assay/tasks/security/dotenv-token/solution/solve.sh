#!/bin/sh
set -e
grep -rhoE 'ghp_[a-z0-9]{36}' deploy | head -1 | tr -d '\n' > answer.txt
