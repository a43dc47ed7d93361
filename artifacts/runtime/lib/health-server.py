#!/usr/bin/env python3
"""idekube health server: answers GET /health (and /) with the state of the image's services.

nginx proxies /health to 127.0.0.1:9999; supervisord runs this as program `health`. The config
(/etc/idekube/health.json, generated per flavor) is read on every request:
  {"branch": "...", "entry": "/", "main": "<name>",
   "services": {"<name>": {"port": 7681, "path": "/terminal/", "probePath": "/terminal/"}}}
A service is up when an HTTP GET of http://127.0.0.1:<port><probePath> answers 200-399, else when a
WebSocket handshake there answers 101. Answers: 200 healthy, 200 degraded (a secondary service down),
502 degraded (the main service down), 500 error (the config cannot be read or is not valid).

Python 3 standard library only: it runs on the images' own python3 (3.8 and later).
"""
import argparse
import base64
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_CONFIG = '/etc/idekube/health.json'
PROBE_TIMEOUT = 1.0  # seconds, per probe (the HTTP GET, then the WebSocket handshake)
DEADLINE = 1.8  # seconds for all probes together: the answer always comes within 2 s


class ConfigError(Exception):
    pass


def load_config(path):
    """The config as a dict, or ConfigError saying what is wrong with it (naming the file)."""
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except FileNotFoundError:
        raise ConfigError('%s: not found' % path)
    except OSError as e:
        raise ConfigError('%s: cannot be read: %s' % (path, e.strerror or e))
    try:
        config = json.loads(raw.decode('utf-8'))
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise ConfigError('%s: not valid JSON: %s' % (path, e))
    problem = config_problem(config)
    if problem:
        raise ConfigError('%s: %s' % (path, problem))
    return config


def config_problem(config):
    """What makes the config unusable, or None."""
    if not isinstance(config, dict):
        return 'the top level must be a JSON object'
    if config.get('main') is not None and not isinstance(config.get('main'), str):
        return '"main" must be a string (or null: no main service)'
    for key in ('branch', 'entry'):
        if config.get(key) is not None and not isinstance(config[key], str):
            return '"%s" must be a string' % key
    services = config.get('services')
    if not isinstance(services, dict):
        return '"services" must be an object'
    for name, service in services.items():
        if not isinstance(service, dict):
            return 'services.%s must be an object' % name
        port = service.get('port')
        # bool is an int in Python: true must not pass for port 1
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            return 'services.%s.port must be a whole number from 1 to 65535' % name
        if not isinstance(service.get('path'), str):
            return 'services.%s.path must be a string' % name
        probe = service.get('probePath', '/')
        # it goes into a request line: printable ASCII without spaces only
        if not isinstance(probe, str) or not probe.startswith('/') or not all('!' <= c <= '~' for c in probe):
            return 'services.%s.probePath must be a path starting with / (printable ASCII, no spaces)' % name
    return None


def status_code(port, request, deadline):
    """Send request to 127.0.0.1:port; the status code of the answer, or None when it is not HTTP.

    Raises socket.timeout when the deadline passes, other OSErrors when the connection fails."""
    with socket.create_connection(('127.0.0.1', port), timeout=max(deadline - time.monotonic(), 0.001)) as sock:
        sock.sendall(request)
        data = b''
        while b'\n' not in data and len(data) < 4096:
            # one timeout for the whole exchange, not per recv: a server dribbling bytes cannot stretch it
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout('timed out')
            sock.settimeout(left)
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    parts = data.split(b'\n', 1)[0].split()
    if len(parts) >= 2 and parts[0].startswith(b'HTTP/') and len(parts[1]) == 3 and parts[1].isdigit():
        return int(parts[1])
    return None


def is_up(port, path, deadline):
    """An HTTP GET answering 200-399, else a WebSocket handshake answering 101 (the ssh and VNC bridges)."""
    host = '127.0.0.1:%d' % port
    get = 'GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: idekube-health\r\nConnection: close\r\n\r\n' % (path, host)
    try:
        code = status_code(port, get.encode('ascii'), min(time.monotonic() + PROBE_TIMEOUT, deadline))
        if code is not None and 200 <= code <= 399:
            return True
    except socket.timeout:
        # accepted and did not answer: a WebSocket try would only wait as long again (past the 2 s promise)
        return False
    except ConnectionRefusedError:
        return False  # nothing listens
    except OSError:
        pass  # closed or reset without an answer: maybe an endpoint that only speaks WebSocket
    key = base64.b64encode(os.urandom(16)).decode('ascii')
    upgrade = ('GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: idekube-health\r\nUpgrade: websocket\r\n'
               'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n') % (path, host, key)
    try:
        return status_code(port, upgrade.encode('ascii'), min(time.monotonic() + PROBE_TIMEOUT, deadline)) == 101
    except OSError:  # socket.timeout is an OSError too
        return False


def probe_all(services):
    """{name: up} for every service, probed in parallel; one not done by the deadline counts as down."""
    deadline = time.monotonic() + DEADLINE
    results = {}

    def probe(name, service):
        results[name] = is_up(service['port'], service.get('probePath', '/'), deadline)

    threads = [threading.Thread(target=probe, args=item, daemon=True) for item in services.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(deadline - time.monotonic(), 0))
    return {name: results.get(name, False) for name in services}


def health(config_path):
    """(HTTP status, JSON document) for one request."""
    try:
        config = load_config(config_path)
    except ConfigError as e:
        return 500, {'status': 'error', 'error': str(e)}
    services = config['services']
    up = probe_all(services)
    # a main that names no service counts as down; null: no main service, nothing makes /health a 502
    main_up = True if config.get('main') is None else up.get(config['main'], False)
    return (200 if main_up else 502), {
        'status': 'healthy' if all(up.values()) and main_up else 'degraded',
        'branch': config.get('branch'),
        'entry': config.get('entry'),
        'main': config.get('main'),
        'services': {name: {'port': s['port'], 'path': s['path'], 'healthy': up[name]} for name, s in services.items()},
    }


class Handler(BaseHTTPRequestHandler):
    server_version = 'idekube-health'
    timeout = 10  # a client that never finishes its request does not hold a thread for ever

    def do_GET(self):
        self.answer(with_body=True)

    def do_HEAD(self):
        self.answer(with_body=False)

    def answer(self, with_body):
        path = self.path.split('?', 1)[0]
        if path not in ('/', '/health'):
            code, doc = 404, {'status': 'error', 'error': 'not found: ask /health'}
        else:
            try:
                code, doc = health(self.server.config_path)
            except Exception as e:  # a bug must still answer (and say so in the log), not drop the connection
                self.log_error('%s: %r', self.server.config_path, e)
                code, doc = 500, {'status': 'error', 'error': '%s: %s' % (self.server.config_path, e)}
        body = (json.dumps(doc) + '\n').encode('utf-8')
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Cache-Control', 'no-store')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # no access log: probes every few seconds would flood `docker logs`

    def log_error(self, format, *args):
        sys.stderr.write('idekube-health: %s\n' % (format % args))


class Server(ThreadingHTTPServer):
    # ThreadingHTTPServer already uses daemon threads: a slow probe never holds up the exit.
    def server_bind(self):
        # HTTPServer.server_bind asks DNS for the address's name (getfqdn): needless, and slow where DNS is unreachable
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class Stop(Exception):
    pass


def stop(signum, frame):
    raise Stop()  # raised in the main thread, inside serve_forever: ends it


def main(argv=None):
    parser = argparse.ArgumentParser(description='idekube health server (GET /health)')
    parser.add_argument('--bind', default='127.0.0.1', help='address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=int, default=9999, help='port to listen on (default 9999; 0: any free port)')
    parser.add_argument('--config', default=os.environ.get('IDEKUBE_HEALTH_CONFIG') or DEFAULT_CONFIG,
                        help='config file (default $IDEKUBE_HEALTH_CONFIG or %s)' % DEFAULT_CONFIG)
    args = parser.parse_args(argv)
    if ':' in args.bind:
        Server.address_family = socket.AF_INET6
    try:
        server = Server((args.bind, args.port), Handler)
    except OSError as e:
        sys.stderr.write('idekube-health: cannot listen on %s:%d: %s\n' % (args.bind, args.port, e.strerror or e))
        return 1
    server.config_path = args.config
    try:
        signal.signal(signal.SIGTERM, stop)  # supervisord stops programs with SIGTERM: exit 0, not a traceback
        signal.signal(signal.SIGINT, stop)
        # flush: stdout is a pipe under supervisord (and in tests, which wait for this line)
        print('idekube-health: listening on %s:%d, config %s' % (args.bind, server.server_address[1], args.config),
              flush=True)
        server.serve_forever()
    except Stop:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
