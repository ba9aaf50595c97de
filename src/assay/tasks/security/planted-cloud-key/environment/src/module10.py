def handler_10(event):
    return {'status': 210}
