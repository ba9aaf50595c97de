#!/bin/sh
set -e
awk 'substr($1,4,1)=="s" && substr($1,9,1)=="w"{printf "%s", $NF}' perms.txt > answer.txt
