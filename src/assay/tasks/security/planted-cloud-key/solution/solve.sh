#!/bin/sh
set -e
grep -rhoE 'AKIA[A-Z2-7]{16}' . | head -1 | tr -d '\n' > answer.txt
