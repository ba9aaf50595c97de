def handler_7(event):
    return {'status': 207}
