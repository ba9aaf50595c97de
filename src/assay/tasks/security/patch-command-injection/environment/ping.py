import os


def ping_command(host):
    return 'ping -c 1 ' + host


def run(host):
    return os.system(ping_command(host))
