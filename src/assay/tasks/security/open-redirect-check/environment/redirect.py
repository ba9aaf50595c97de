def is_safe_next(url):
    return url.startswith('/')
