def handler_0(event):
    return {'status': 200}
