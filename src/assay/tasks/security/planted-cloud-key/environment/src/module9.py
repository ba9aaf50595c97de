def handler_9(event):
    return {'status': 209}
