def handler_5(event):
    return {'status': 205}
