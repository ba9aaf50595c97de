#!/bin/sh
set -e
printf search_orders > answer.txt
