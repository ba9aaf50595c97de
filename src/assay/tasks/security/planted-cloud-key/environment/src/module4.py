def handler_4(event):
    return {'status': 204}
