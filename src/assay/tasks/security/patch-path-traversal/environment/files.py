import os


def safe_open(base, name):
    path = os.path.join(base, name)
    return open(path).read()
