#!/bin/sh
set -e
sed -i -e 's/^PermitRootLogin.*/PermitRootLogin no/' -e 's/^PasswordAuthentication.*/PasswordAuthentication no/' -e 's/^PermitEmptyPasswords.*/PermitEmptyPasswords no/' sshd_config
