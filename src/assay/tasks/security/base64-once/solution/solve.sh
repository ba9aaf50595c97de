#!/bin/sh
set -e
base64 -d message.txt > answer.txt
