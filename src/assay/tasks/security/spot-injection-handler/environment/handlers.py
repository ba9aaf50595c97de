import html
import sqlite3


def get_profile(db, request):
    return db.execute("SELECT * FROM profiles WHERE id = ?", (request["id"],)).fetchone()


def search_orders(db, request):
    term = request["q"]
    return db.execute(f"SELECT * FROM orders WHERE item LIKE '%{term}%'").fetchall()


def render_greeting(request):
    return "<p>Hello " + html.escape(request["name"]) + "</p>"


def list_items(db, request):
    limit = int(request.get("limit", 10))
    return db.execute("SELECT * FROM items LIMIT ?", (limit,)).fetchall()
