def handler_8(event):
    return {'status': 208}
