def render_comment(author, text):
    return '<div class="c"><b>' + author + '</b>: ' + text + '</div>'
