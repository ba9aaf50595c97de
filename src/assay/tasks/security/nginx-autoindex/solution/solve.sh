#!/bin/sh
set -e
awk '/server_name/{gsub(";","",$2); n=$2} /autoindex on/{printf "%s", n}' nginx.conf > answer.txt
