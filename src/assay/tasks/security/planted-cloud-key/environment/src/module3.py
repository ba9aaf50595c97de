def handler_3(event):
    return {'status': 203}
