def handler_1(event):
    return {'status': 201}
