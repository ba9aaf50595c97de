#!/bin/sh
set -e
awk '$2=="useradd"{a[$3]=1} $2=="userdel" && a[$3]{printf "%s", $3}' audit.log > answer.txt
