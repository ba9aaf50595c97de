#!/bin/sh
set -e
awk '/report for/{h=$NF} h=="10.0.0.21" && $2=="open"{split($1,a,"/"); print a[1]}' scan.txt | sort -n | paste -sd, | tr -d '\n' > answer.txt
