"""A small Flask application for the proxy end-to-end tests (served by gunicorn).

Routes: /json (a JSON document), /echo (size and SHA-256 of the request body, chunked or not),
/stream?n= (a streamed, hence chunked, response of n lines), /peer (the port the request came
from: the same port means the same upstream connection), /status/N (that status).
"""
import hashlib

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.route("/json")
def json_doc():
    return jsonify(name="hspy", items=list(range(5)), nested={"ok": True})


@app.route("/echo", methods=["POST", "PUT"])
def echo():
    data = request.get_data()
    return "%d %s\n" % (len(data), hashlib.sha256(data).hexdigest())


@app.route("/stream")
def stream():
    n = int(request.args.get("n", "100"))
    return Response(("line %d\n" % i for i in range(n)), mimetype="text/plain")


@app.route("/peer")
def peer():
    return request.environ.get("REMOTE_PORT", "?") + "\n"


@app.route("/status/<int:code>")
def status(code):
    return "status %d\n" % code, code
