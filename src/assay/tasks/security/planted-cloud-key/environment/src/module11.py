def handler_11(event):
    return {'status': 211}
