def handler_2(event):
    return {'status': 202}
