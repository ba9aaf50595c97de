#!/bin/sh
set -e
grep '^-PASSWORD' history.patch | head -1 | cut -d'"' -f2 | tr -d '\n' > answer.txt
