def handler_6(event):
    return {'status': 206}
